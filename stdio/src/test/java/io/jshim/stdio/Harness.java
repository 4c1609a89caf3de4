package io.jshim.stdio;


import io.jshim.reaper.Child;
import io.jshim.reaper.Exit;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Test plumbing: the reaper, fifos, a client-side fifo reader, and a runc stand-in. */
final class Harness {
    static final Reaper REAPER = Reaper.get();
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));

    private Harness() {}

    static IoContext context(Path dir) {
        return IoContext.of("c1", null, "testns", 0, 0, dir, REAPER).withReaderGoneGrace(Duration.ofMillis(200));
    }

    static String fifo(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        StdioNative.mkfifo(p.toString(), 0600);
        return p.toString();
    }

    /** Plays runc: starts the "container" process with runcFds() as its 0, 1, 2, then starts the IO. */
    static Child runContainer(ProcessIO io, String... argv) throws IOException {
        SpawnSpec spec = new SpawnSpec(List.of(argv), null, null, io.runcFds(), false, false);
        Child child = REAPER.spawn(spec);
        io.start(Duration.ofSeconds(5));
        return child;
    }

    static Exit await(Child child, Duration timeout) throws Exception {
        return child.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    static void awaitDrained(ProcessIO io, Duration timeout) throws Exception {
        io.drained().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /** Our open fds (target → count), excluding the directory stream listing them. */
    static Map<String, Integer> openFds() throws IOException {
        Map<String, Integer> fds = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    continue; // the listing's own fd, already gone
                }
                if (target.startsWith("pipe:")) {
                    target = "pipe";
                }
                if (target.startsWith("/dev/pts/") && !target.equals("/dev/pts/ptmx")) {
                    target = "/dev/pts/N";
                }
                fds.merge(target, 1, Integer::sum);
            }
        }
        return fds;
    }

    static int fdCount() throws IOException {
        return openFds().values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Waits (by polling the table) until the fd table equals {@code expected}, then asserts it. */
    static void assertFdsReturnTo(Map<String, Integer> expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Map<String, Integer> now = openFds();
        while (!now.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            now = openFds();
        }
        if (!now.equals(expected)) {
            Map<String, String> diff = new TreeMap<>();
            java.util.Set<String> keys = new java.util.TreeSet<>(expected.keySet());
            keys.addAll(now.keySet());
            for (String k : keys) {
                if (!java.util.Objects.equals(expected.get(k), now.get(k))) {
                    diff.put(k, expected.get(k) + " -> " + now.get(k));
                }
            }
            throw new AssertionError("open fds changed (before -> after): " + diff);
        }
    }

    static long ptmxCount() throws IOException {
        return openFds().entrySet().stream().filter(e -> e.getKey().contains("ptmx"))
                .mapToInt(Map.Entry::getValue).sum();
    }

    /**
     * The client's end of an output fifo, opened as containerd does (O_RDONLY|O_NONBLOCK, before
     * the shim opens it) and read on a thread until EOF or {@link #close()}.
     */
    static final class FifoReader implements AutoCloseable {
        private final Fd fd;
        private final Wakeup stop;
        private final ByteArrayOutputStream data = new ByteArrayOutputStream();
        private final Thread thread;
        private volatile long pauseUntilBytes = Long.MAX_VALUE;
        private volatile long resumeAtNanos;

        FifoReader(String path) throws IOException {
            fd = new Fd(StdioNative.open(path, StdioNative.O_RDONLY | StdioNative.O_NONBLOCK, 0), "test reader " + path);
            stop = Wakeup.create("test reader stop");
            thread = Thread.ofPlatform().name("test-reader").daemon(true).start(this::run);
        }

        /** Once {@code afterBytes} were read, stop reading for {@code pause}. */
        FifoReader pauseAfter(long afterBytes, Duration pause) {
            resumeAtNanos = pause.toNanos();
            pauseUntilBytes = afterBytes;
            return this;
        }

        private void run() {
            try (Arena arena = Arena.ofConfined(); Poller poller = new Poller(stop, null)) {
                MemorySegment buf = arena.allocate(65536);
                byte[] chunk = new byte[65536];
                long total = 0;
                while (true) {
                    if (total >= pauseUntilBytes) {
                        pauseUntilBytes = Long.MAX_VALUE;
                        Thread.sleep(Duration.ofNanos(resumeAtNanos));
                    }
                    long n = StdioNative.read(fd.get(), buf, buf.byteSize());
                    if (n > 0) {
                        MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, chunk, 0, (int) n);
                        synchronized (data) {
                            data.write(chunk, 0, (int) n);
                        }
                        total += n;
                        continue;
                    }
                    if (n == 0) {
                        // EOF, or no writer yet: a fifo opened O_NONBLOCK reads 0 while nobody writes.
                        if (stop.isSignalled()) {
                            return;
                        }
                        Thread.sleep(10);
                        continue;
                    }
                    if (n == -StdioNative.EAGAIN || n == -StdioNative.EINTR) {
                        if (poller.await(fd.get(), StdioNative.POLLIN, false, -1) == Poller.Ready.STOP) {
                            return;
                        }
                        continue;
                    }
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        byte[] bytes() {
            synchronized (data) {
                return data.toByteArray();
            }
        }

        int size() {
            synchronized (data) {
                return data.size();
            }
        }

        String text() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        /** Waits until the data contains {@code s}. */
        String awaitText(String s, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!text().contains(s) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            return text();
        }

        /** Waits until {@code n} bytes arrived. */
        byte[] awaitBytes(long n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (size() < n && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            return bytes();
        }

        @Override
        public void close() throws InterruptedException {
            stop.signal();
            thread.join(5000);
            fd.close();
            stop.close();
        }
    }

    /** A client's writer on the stdin fifo (blocking; opened after prepare, when the shim holds the read end). */
    static Fd openStdinWriter(String path) throws IOException {
        return new Fd(StdioNative.open(path, StdioNative.O_WRONLY, 0), "test stdin writer");
    }

    /**
     * Writes all of data on a helper thread and waits at most {@code timeout}: a broken shim shows
     * up as a failed test, not a test blocked forever on a full fifo.
     */
    static void write(Fd fd, byte[] data, Duration timeout) throws Exception {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("test-writer").start(() -> {
            try {
                StdioNative.writeFully(fd.get(), data);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

}
