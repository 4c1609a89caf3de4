package io.jshim.test;

import io.jshim.reaper.Posix;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** The client's side of stdio fifos, as containerd holds them: made by the client, read and written by it. */
public final class Fifos {
    private Fifos() {}

    public static Path make(Path path) throws IOException {
        Posix.mkfifo(path.toString(), 0600);
        return path;
    }

    /** Reads the fifo to EOF on a thread of its own (the open blocks until the shim opens the write end). */
    public static CompletableFuture<byte[]> readAll(Path fifo) {
        CompletableFuture<byte[]> out = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("fifo-reader").start(() -> {
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                in.transferTo(buf);
                out.complete(buf.toByteArray());
            } catch (IOException e) {
                out.completeExceptionally(e);
            }
        });
        return out;
    }

    /** Opens the fifo for writing (blocks until the shim opens its read end). */
    public static FileOutputStream openWriter(Path fifo) throws IOException {
        return new FileOutputStream(fifo.toFile());
    }
}
