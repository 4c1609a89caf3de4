package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.ttrpc.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several connections send a fixed-seed mix of valid, garbage, misnumbered, unknown-type,
 * oversized and truncated frames while a well-behaved client on its own connection keeps
 * calling. Every fuzz frame that deserves an answer must get exactly one well-formed one, the
 * good client must never fail, and afterwards no call or thread may be left behind.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class FuzzTest {
    private static final String SVC = "fuzz.Svc";
    private static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    private static final int FRAMES = FULL ? 100_000 : 2_000;
    private static final int CONNECTIONS = 4;
    private static final long SEED = 0x7e57_5eedL;

    @TempDir
    Path dir;

    private final AtomicInteger runningHandlers = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

    private static Bytes idPayload(int id) {
        return Bytes.copyFrom(ByteBuffer.allocate(4).putInt(id).flip());
    }

    @Test
    void serverSurvivesGarbageWhileAGoodClientKeepsGettingAnswers() throws Exception {
        Set<Thread> baseline = platformThreads();
        Path socket = dir.resolve("fuzz.sock");
        TtrpcServer server = TtrpcServer.builder()
                .register(SVC, "Echo", (ctx, p) -> counted(() -> p))
                .register(SVC, "Fail", (ctx, p) -> counted(() -> {
                    throw new TtrpcException(Code.FAILED_PRECONDITION, "nope");
                }))
                .register(SVC, "Crash", (ctx, p) -> counted(() -> {
                    throw new IllegalStateException("fuzz crash");
                }))
                .build()
                .bind(socket);
        TtrpcClient good = TtrpcClient.connect(socket, Duration.ofSeconds(5));

        AtomicBoolean fuzzing = new AtomicBoolean(true);
        AtomicLong goodCalls = new AtomicLong();
        Thread goodCaller = Thread.ofPlatform().name("fuzz-good-client").start(() -> {
            Random r = new Random(SEED ^ 1);
            while (fuzzing.get()) {
                byte[] payload = new byte[r.nextInt(512)];
                r.nextBytes(payload);
                try {
                    Bytes answer = good.call(SVC, "Echo", Bytes.copyFrom(payload),
                            CallOptions.withTimeout(Duration.ofSeconds(10))).get();
                    if (!answer.equals(Bytes.copyFrom(payload))) {
                        problems.add("good client got a wrong answer");
                    }
                    goodCalls.incrementAndGet();
                } catch (Exception e) {
                    problems.add("good client call failed: " + e);
                    return;
                }
            }
        });

        List<Thread> fuzzers = new ArrayList<>();
        AtomicLong responses = new AtomicLong();
        AtomicInteger sessions = new AtomicInteger();
        for (int c = 0; c < CONNECTIONS; c++) {
            Fuzzer fuzzer = new Fuzzer(socket, new Random(SEED + c), FRAMES / CONNECTIONS, responses, sessions);
            fuzzers.add(Thread.ofPlatform().name("fuzzer-" + c).start(fuzzer::runChecked));
        }
        for (Thread t : fuzzers) {
            t.join();
        }
        fuzzing.set(false);
        goodCaller.join();

        assertTrue(problems.isEmpty(), () -> problems.size() + " problems, first: " + problems.peek());
        assertTrue(goodCalls.get() > 0, "the good client got answers during the fuzzing");
        assertTrue(good.isOpen());
        System.err.printf("fuzz: %d frames on %d connections (%d sessions), %d answers checked, %d good calls%n",
                FRAMES, CONNECTIONS, sessions.get(), responses.get(), goodCalls.get());

        good.close();
        ServerProtocolTest.awaitTrue(() -> server.activeCalls() == 0 && server.connectionCount() == 0, "server idle");
        assertEquals(0, runningHandlers.get());
        server.close();
        ServerProtocolTest.awaitTrue(() -> newThreads(baseline).isEmpty(), "threads back to baseline: " + newThreads(baseline));
    }

    private <T> T counted(Handler<T> body) throws TtrpcException {
        runningHandlers.incrementAndGet();
        try {
            return body.run();
        } finally {
            runningHandlers.decrementAndGet();
        }
    }

    @FunctionalInterface
    private interface Handler<T> {
        T run() throws TtrpcException;
    }

    private static Set<Thread> platformThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).collect(Collectors.toSet());
    }

    /**
     * Live platform threads not in the baseline, ignoring the JDK's virtual-thread carriers and the process's shared
     * ones: the I/O thread (started by the first server or client, never ended) and the timer (it ends by itself once
     * idle for {@link Timers#IDLE_SECONDS}, which the wait below does not cover).
     */
    private static List<String> newThreads(Set<Thread> baseline) {
        return platformThreads().stream()
                .filter(t -> !baseline.contains(t))
                .filter(t -> !(t instanceof ForkJoinWorkerThread) && !t.getName().startsWith("VirtualThread-")
                        && !t.getName().equals("jshim-timer") && !t.getName().equals("ttrpc-io"))
                .map(Thread::getName)
                .toList();
    }

    /** One fuzzing connection after another until its frame budget is spent. */
    private final class Fuzzer {
        private final Path socket;
        private final Random random;
        private final int budget;
        private final AtomicLong responses;
        private final AtomicInteger sessions;
        private final byte[] oversizedBody = new byte[Frame.MAX_DATA_LENGTH + 4096];

        Fuzzer(Path socket, Random random, int budget, AtomicLong responses, AtomicInteger sessions) {
            this.socket = socket;
            this.random = random;
            this.budget = budget;
            this.responses = responses;
            this.sessions = sessions;
        }

        void runChecked() {
            try {
                int sent = 0;
                while (sent < budget) {
                    sent += session(budget - sent);
                }
            } catch (Exception | AssertionError e) {
                problems.add(Thread.currentThread().getName() + ": " + e);
            }
        }

        /** One connection: frames until the budget is spent or a truncated frame ends it. Returns frames sent. */
        private int session(int budget) throws Exception {
            sessions.incrementAndGet();
            RawConnection conn = new RawConnection(socket);
            Semaphore answers = new Semaphore(0);
            Thread reader = Thread.ofPlatform().name(Thread.currentThread().getName() + "-reader")
                    .start(() -> read(conn, answers));
            int expected = 0;
            int lastId = -1; // highest odd id used on this connection (as a request or data frame)
            int sent = 0;
            boolean truncated = false;
            try {
                while (sent < budget && !truncated) {
                    int nextId = lastId + 2;
                    int roll = random.nextInt(1000);
                    sent++;
                    if (roll < 300) {
                        conn.sendRequest(nextId, SVC, "Echo", idPayload(nextId));
                        lastId = nextId;
                        expected++;
                    } else if (roll < 350) {
                        conn.sendRequest(nextId, SVC, random.nextBoolean() ? "Fail" : "Nope", Bytes.EMPTY);
                        lastId = nextId;
                        expected++;
                    } else if (roll < 360) {
                        conn.sendRequest(nextId, random.nextBoolean() ? SVC : "no.Such", "Crash", Bytes.EMPTY);
                        lastId = nextId;
                        expected++;
                    } else if (roll < 510) {
                        byte[] garbage = new byte[random.nextInt(300)];
                        random.nextBytes(garbage);
                        conn.send(nextId, Frame.TYPE_REQUEST, random.nextInt(4), garbage);
                        lastId = nextId;
                        expected++;
                    } else if (roll < 590) {
                        int type = random.nextInt(256);
                        if (type == Frame.TYPE_REQUEST || type == Frame.TYPE_DATA) {
                            type = Frame.TYPE_RESPONSE;
                        }
                        byte[] body = new byte[random.nextInt(100)];
                        random.nextBytes(body);
                        conn.send(nextId, type, random.nextInt(256), body); // ignored: no answer
                    } else if (roll < 650) {
                        int evenId = random.nextInt() & ~1;
                        conn.send(evenId, 1 + random.nextInt(3), 0, RawConnection.request(SVC, "Echo", Bytes.EMPTY));
                        expected++;
                    } else if (roll < 710 && lastId > 0) {
                        int reused = 1 + 2 * random.nextInt(lastId / 2 + 1);
                        conn.sendRequest(reused, SVC, "Echo", idPayload(reused));
                        expected++;
                    } else if (roll < 790) {
                        // Data on an id never opened: always "no longer active".
                        conn.send(nextId, Frame.TYPE_DATA, random.nextInt(8), new byte[random.nextInt(20)]);
                        lastId = nextId;
                        expected++;
                    } else if (roll < 850) {
                        conn.send(nextId, Frame.TYPE_REQUEST, 0, new byte[0]);
                        lastId = nextId;
                        expected++;
                    } else if (roll < 853) {
                        int length = Frame.MAX_DATA_LENGTH + 1 + random.nextInt(4096);
                        conn.write(RawConnection.header(length, nextId, Frame.TYPE_REQUEST, 0));
                        conn.write(ByteBuffer.wrap(oversizedBody, 0, length));
                        lastId = nextId;
                        expected++;
                    } else if (roll < 863) {
                        truncated = true;
                    } else {
                        conn.sendRequest(nextId, SVC, "Echo", idPayload(nextId));
                        lastId = nextId;
                        expected++;
                    }
                }
                // Collect every answer before ending the connection: on EOF the server drops what
                // it has not written yet, as Go does.
                assertTrue(answers.tryAcquire(expected, 60, TimeUnit.SECONDS),
                        "got " + answers.availablePermits() + " of " + expected + " answers");
                if (truncated) {
                    byte[] partial = new byte[1 + random.nextInt(40)];
                    random.nextBytes(partial);
                    partial[0] = 0; // a plausible length, so it is truncated rather than oversized
                    conn.write(partial);
                }
                conn.shutdownOutput();
                reader.join(TimeUnit.SECONDS.toMillis(30));
                assertTrue(!reader.isAlive(), "server closed the connection after EOF");
                assertEquals(0, answers.availablePermits(), "no answer beyond the expected ones");
            } finally {
                conn.close();
                reader.join();
            }
            responses.addAndGet(expected);
            return sent;
        }

        private void read(RawConnection conn, Semaphore answers) {
            try {
                Frame frame;
                while ((frame = conn.readFrame()) != null) {
                    if (frame.type() != Frame.TYPE_RESPONSE || frame.flags() != 0) {
                        problems.add("server sent " + frame);
                        continue;
                    }
                    Response response = Response.parseFrom(frame.data());
                    Code code = Code.of(response.getStatus().getCode());
                    if (code == Code.OK && !response.getPayload().equals(idPayload(frame.streamId()))) {
                        problems.add("answer on stream " + frame.streamId() + " carries another call's payload");
                    }
                    if (!response.hasStatus()) {
                        problems.add("response without status");
                    }
                    answers.release();
                }
            } catch (IOException e) {
                if (!String.valueOf(e.getMessage()).contains("reset")) {
                    problems.add("reader: " + e);
                }
            }
        }
    }
}
