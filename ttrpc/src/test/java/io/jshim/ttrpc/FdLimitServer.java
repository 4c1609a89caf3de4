package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;
import io.jshim.reaper.PosixException;
import io.jshim.reaper.UnixSocket;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Run in a child JVM by {@link AcceptBackoffTest}, under a low {@code ulimit -n}: serves the listening socket it
 * inherits as fd 3 with test.Echo/Echo, and test.Fds/Exhaust, which takes every free fd of the process but the
 * number asked for (answering how many it holds). Runs until killed.
 */
public final class FdLimitServer {
    static final String SERVICE = "test.Fds";
    static final String EXHAUST = "Exhaust";
    private static final int EMFILE = 24;

    /** The fds Exhaust took; guarded by itself. */
    private static final List<Integer> taken = new ArrayList<>();

    private FdLimitServer() {
    }

    public static void main(String[] args) throws Exception {
        preloadClasses();
        TtrpcServer server = TtrpcServer.builder()
                .register("test.Echo", "Echo", (ctx, payload) -> payload)
                .register(SERVICE, EXHAUST, (ctx, payload) ->
                        Bytes.copyFromUtf8(Integer.toString(exhaust(Integer.parseInt(payload.toStringUtf8())))))
                .build();
        server.adopt(3);
        Thread.currentThread().join();
    }

    /** Opens sockets until the fd limit refuses one, then closes {@code headroom} of them. */
    private static int exhaust(int headroom) {
        synchronized (taken) {
            while (true) {
                try {
                    taken.add(UnixSocket.socket());
                } catch (PosixException e) {
                    if (e.errno() != EMFILE) {
                        throw new UncheckedIOException(e);
                    }
                    break;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            for (int i = 0; i < headroom; i++) {
                UnixSocket.close(taken.removeLast());
            }
            return taken.size();
        }
    }

    /**
     * Loads every class of the class path's directories now, and opens every jar: loading a class later, with no
     * fd left, would fail with NoClassDefFoundError (a class file in a directory is opened for each load) and the
     * test would see that rather than the listener.
     */
    private static void preloadClasses() throws IOException {
        ClassLoader loader = FdLimitServer.class.getClassLoader();
        loader.getResource("io/jshim/no-such-resource"); // a search through every entry opens each jar
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path dir = Path.of(entry);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> classFiles;
            try (Stream<Path> files = Files.walk(dir)) {
                classFiles = files.filter(f -> f.toString().endsWith(".class")).toList();
            }
            for (Path f : classFiles) {
                String path = dir.relativize(f).toString();
                String name = path.substring(0, path.length() - ".class".length()).replace('/', '.');
                try {
                    Class.forName(name, false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    // a test class whose dependencies this child does not need
                }
            }
        }
    }
}
