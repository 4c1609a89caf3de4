package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.task.StateRequest;
import io.jshim.proto.task.StateResponse;
import io.jshim.test.AnchoredShim;
import io.jshim.test.RawTtrpc;
import io.jshim.test.ShimHarness;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: malformed wire input (issue 10). Random, truncated, oversized and garbage-protobuf frames from 8
 * connections against a real shim daemon (the one containerd started), while a well-formed client keeps calling
 * State: it must keep answering, the daemon's RSS stay within baseline + 32 MB, and its threads come back.
 */
class MalformedFramesTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    static final long SEED = Long.getLong("jshim.fuzz.seed", 0x5eed_10L);
    static final String[] METHODS = {"State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint",
            "Kill", "Exec", "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect"};

    /** One fuzzing connection: sends frames of every kind, reconnecting whenever framing is lost. */
    static final class Fuzzer implements Runnable {
        final Path socket;
        final Random random;
        final int frames;
        final String namespace;
        final AtomicInteger sent;
        final AtomicInteger reconnects;
        RawTtrpc conn;
        int nextId;

        Fuzzer(Path socket, long seed, int frames, String namespace, AtomicInteger sent, AtomicInteger reconnects) {
            this.socket = socket;
            this.random = new Random(seed);
            this.frames = frames;
            this.namespace = namespace;
            this.sent = sent;
            this.reconnects = reconnects;
        }

        byte[] bytes(int n) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            return b;
        }

        int id() {
            int id = nextId;
            nextId += 2;
            return id;
        }

        void reconnect() throws IOException {
            if (conn != null) {
                conn.close();
            }
            conn = RawTtrpc.connect(socket);
            nextId = 1;
            reconnects.incrementAndGet();
            RawTtrpc mine = conn;
            // Reads and drops the answers, so the peer is rude but not a slow reader.
            Thread.ofVirtual().start(() -> {
                ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
                try {
                    while (mine.channel().read(sink.clear()) >= 0) {
                        // drop
                    }
                } catch (IOException closed) {
                    // we closed it
                }
            });
        }

        @Override
        public void run() {
            try {
                reconnect();
                for (int i = 0; i < frames; i++) {
                    try {
                        one(random.nextInt(100));
                    } catch (IOException e) {
                        reconnect(); // the server closed on us (e.g. after a truncated frame): fine
                    }
                    sent.incrementAndGet();
                }
                conn.close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        void one(int dice) throws IOException {
            if (dice < 10) { // random bytes: framing is lost, so the connection goes
                conn.write(bytes(1 + random.nextInt(64)));
                reconnect();
            } else if (dice < 35) { // a request frame whose body is not a Request
                conn.write(RawTtrpc.frame(id(), 1, 0, bytes(random.nextInt(512))));
            } else if (dice < 60) { // a Task request whose payload is garbage
                byte[] body = io.jshim.proto.ttrpc.Request.newBuilder().setService(ShimHarness.V2)
                        .setMethod(METHODS[random.nextInt(METHODS.length)])
                        .setPayload(io.jshim.proto.wire.Bytes.copyFrom(bytes(random.nextInt(256))))
                        .build().toByteArray();
                conn.write(RawTtrpc.frame(id(), 1, 0, body));
            } else if (dice < 68) { // unknown service or method
                conn.write(RawTtrpc.frame(id(), 1, 0, RawTtrpc.request(random.nextBoolean() ? "no.such.Service"
                        : ShimHarness.V2, "Nope" + random.nextInt(1000), null, namespace)));
            } else if (dice < 76) { // truncated: the header promises more than comes, then the peer leaves
                int n = 100 + random.nextInt(10_000);
                conn.write(RawTtrpc.header(n, id(), 1, 0));
                conn.write(bytes(n / 2));
                reconnect();
            } else if (dice < 82) { // oversized: over 4 MiB; part of it, then the peer leaves
                long n = (4L << 20) + 1 + random.nextInt(12 << 20);
                conn.write(RawTtrpc.header(n, id(), 1, 0));
                conn.write(bytes(random.nextInt(64 * 1024)));
                reconnect();
            } else if (dice < 83) { // a whole oversized frame: skipped, answered ResourceExhausted
                int n = (4 << 20) + 1 + random.nextInt(1024);
                conn.write(RawTtrpc.header(n, id(), 1, 0));
                conn.write(new byte[n]);
            } else if (dice < 85) { // a large frame within the limit, buffered by the server, garbage inside
                int n = (1 << 20) + random.nextInt(3 << 20);
                conn.write(RawTtrpc.frame(id(), 1, 0, bytes(n)));
            } else if (dice < 90) { // even id, reused id
                conn.write(RawTtrpc.frame(random.nextBoolean() ? 2 * random.nextInt(1000) : 1, 1, 0, bytes(20)));
            } else if (dice < 95) { // data frame for no stream, unknown type, odd flags
                conn.write(RawTtrpc.frame(id(), 3 + random.nextInt(250), random.nextInt(256), bytes(random.nextInt(100))));
            } else { // a header cut short, then the peer leaves
                conn.write(java.util.Arrays.copyOf(RawTtrpc.header(100, id(), 1, 0), 1 + random.nextInt(9)));
                reconnect();
            }
        }
    }

    @Test
    void garbageFromEightConnectionsWhileAWellFormedClientIsServedAndRssStaysWithinBaselinePlus32Mb(@TempDir Path dir)
            throws Exception {
        fuzz(dir);
    }

    /** Diagnostics: the mappings holding the most resident memory (jshim.fuzz.diag). */
    static String topMappings(int pid) throws IOException {
        List<String[]> maps = new ArrayList<>();
        String head = null;
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                head = line;
            } else if (line.startsWith("Rss:") && head != null) {
                maps.add(new String[] {line.replaceAll("\\D", ""), head});
            }
        }
        maps.sort((x, y) -> Long.compare(Long.parseLong(y[0]), Long.parseLong(x[0])));
        StringBuilder out = new StringBuilder("top mappings by RSS (KiB):\n");
        maps.stream().limit(15).forEach(m -> out.append(m[0]).append("  ").append(m[1]).append('\n'));
        return out.toString();
    }

    static void fuzz(Path dir) throws Exception {
        int total = FULL ? 100_000 : 5_000;
        try (AnchoredShim shim = AnchoredShim.start(dir, "fuzz-anchor")) {
            StateRequest state = StateRequest.newBuilder().setId(shim.anchor()).build();
            for (int i = 0; i < 200; i++) {
                shim.call("State", state, StateResponse.parser());
            }
            Thread.sleep(1000);
            long rssBaseline = shim.daemon().rssKb();
            if (Boolean.getBoolean("jshim.fuzz.diag")) {
                System.out.println(shim.daemon().jcmd("GC.heap_info"));
                System.out.println(shim.daemon().jcmd("GC.run") + shim.daemon().jcmd("GC.heap_info")
                        + shim.daemon().jcmd("GC.class_histogram").lines().limit(25).collect(
                                java.util.stream.Collectors.joining("\n")));
            }
            if (Boolean.getBoolean("jshim.fuzz.diag")) {
                System.out.println(topMappings(shim.daemon().pid()));
            }
            int threadsBaseline = shim.daemon().threadCount();

            AtomicBoolean fuzzing = new AtomicBoolean(true);
            AtomicInteger answered = new AtomicInteger();
            AtomicLong worstMs = new AtomicLong();
            AtomicLong maxRss = new AtomicLong(rssBaseline);
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Thread client = Thread.ofPlatform().name("well-formed").start(() -> {
                while (fuzzing.get()) {
                    long t0 = System.nanoTime();
                    try {
                        StateResponse r = shim.call("State", state, StateResponse.parser());
                        if (r.getPid() <= 0) {
                            failures.add(new AssertionError("State answered without a pid: " + r));
                        }
                        answered.incrementAndGet();
                    } catch (Exception e) {
                        failures.add(e);
                    }
                    worstMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                    try {
                        maxRss.accumulateAndGet(shim.daemon().rssKb(), Math::max);
                        Thread.sleep(5);
                    } catch (Exception e) {
                        failures.add(e);
                    }
                }
            });
            AtomicInteger sent = new AtomicInteger();
            AtomicInteger reconnects = new AtomicInteger();
            List<Thread> fuzzers = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int c = 0; c < 8; c++) {
                fuzzers.add(Thread.ofPlatform().name("fuzz-" + c).start(new Fuzzer(shim.daemon().socket(), SEED + c,
                        total / 8, shim.containerd().namespace(), sent, reconnects)));
            }
            for (Thread f : fuzzers) {
                f.join();
            }
            long fuzzMs = (System.nanoTime() - t0) / 1_000_000;
            Thread.sleep(500);
            fuzzing.set(false);
            client.join();
            long rssAfter = shim.daemon().rssKb();
            if (Boolean.getBoolean("jshim.fuzz.diag")) {
                System.out.println(shim.daemon().jcmd("VM.native_memory summary"));
                System.out.println(topMappings(shim.daemon().pid()));
                System.out.println(shim.daemon().jcmd("GC.heap_info"));
                System.out.println(shim.daemon().jcmd("GC.run") + shim.daemon().jcmd("GC.heap_info")
                        + shim.daemon().jcmd("GC.class_histogram").lines().limit(25).collect(
                                java.util.stream.Collectors.joining("\n")));
            }
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(45);
            int threadsAfter = shim.daemon().threadCount();
            long settle = System.nanoTime();
            while (threadsAfter > threadsBaseline && System.nanoTime() < deadline) {
                Thread.sleep(250);
                threadsAfter = shim.daemon().threadCount();
            }
            long settleMs = (System.nanoTime() - settle) / 1_000_000;
            System.out.printf("malformed frames: %d frames (seed %d) on 8 connections (%d connects) in %d ms;"
                            + " well-formed State calls answered %d, worst %d ms, failures %d;"
                            + " RSS baseline %d KiB, max %d KiB, after %d KiB; threads %d -> %d (settled in %d ms)%n",
                    sent.get(), SEED, reconnects.get(), fuzzMs, answered.get(), worstMs.get(), failures.size(),
                    rssBaseline, maxRss.get(), rssAfter, threadsBaseline, threadsAfter, settleMs);
            assertTrue(failures.isEmpty(), "the well-formed client failed: " + failures);
            assertTrue(answered.get() > 0);
            assertEquals(total / 8 * 8, sent.get());
            assertTrue(shim.daemon().alive(), "the daemon survived");
            assertTrue(maxRss.get() <= rssBaseline + 32 * 1024, "RSS within baseline + 32 MB: max " + maxRss.get()
                    + " KiB, baseline " + rssBaseline + " KiB");
            assertTrue(threadsAfter <= threadsBaseline, "threads back to baseline: " + threadsBaseline + " -> "
                    + threadsAfter);
            // and it still does real work
            assertEquals(shim.anchor(), shim.call("State", state, StateResponse.parser()).getId());
        }
    }
}
