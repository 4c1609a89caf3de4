package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.wkt.Timestamp;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.eventsvc.Envelope;
import io.jshim.proto.eventsvc.ForwardRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** TtrpcClient against TtrpcServer over a real unix socket. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RoundTripTest {
    static final String SVC = "test.Svc";
    static final String EVENTS = "containerd.services.events.ttrpc.v1.Events";
    static final Duration FIVE_S = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    Path socket;
    TtrpcServer server;
    TtrpcClient client;

    /** Handler hooks a test can set before calling. */
    final AtomicReference<CallContext> seen = new AtomicReference<>();
    volatile CountDownLatch release = new CountDownLatch(0);
    final CountDownLatch blockedStarted = new CountDownLatch(1);
    final CountDownLatch cancelSeen = new CountDownLatch(1);
    final CountDownLatch blockedFinished = new CountDownLatch(1);
    final ConcurrentLinkedQueue<TaskExit> forwarded = new ConcurrentLinkedQueue<>();

    /** Per-index release gates for the ordering test. */
    volatile CountDownLatch[] gates;
    final CountDownLatch allStarted = new CountDownLatch(100);

    @BeforeEach
    void start() throws IOException {
        socket = dir.resolve("s.sock");
        server = TtrpcServer.builder()
                .register(SVC, "Echo", (ctx, p) -> p)
                .register(SVC, "Fail", (ctx, p) -> {
                    throw new TtrpcException(Code.of(p.byteAt(0)), p.substring(1).toStringUtf8());
                })
                .register(SVC, "Crash", (ctx, p) -> {
                    throw new IllegalStateException("handler bug: " + p.toStringUtf8());
                })
                .register(SVC, "WhereLoop", Execution.EVENT_LOOP, (ctx, p) -> whereAmI())
                .register(SVC, "WhereDefault", (ctx, p) -> whereAmI())
                .register(SVC, "Context", (ctx, p) -> {
                    seen.set(ctx);
                    return Bytes.EMPTY;
                })
                .register(SVC, "Block", (ctx, p) -> {
                    seen.set(ctx);
                    ctx.onCancel(cancelSeen::countDown);
                    blockedStarted.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        blockedFinished.countDown();
                    }
                    return Bytes.copyFromUtf8("late");
                })
                .register(SVC, "Ordered", (ctx, p) -> {
                    int i = p.asReadOnlyByteBuffer().getInt();
                    allStarted.countDown();
                    try {
                        gates[i].await();
                    } catch (InterruptedException e) {
                        throw new TtrpcException(Code.CANCELLED, "interrupted");
                    }
                    return p;
                })
                .register(EVENTS, "Forward", ForwardRequest.parser(), (ctx, req) -> {
                    try {
                        forwarded.add(TaskExit.parseFrom(req.getEnvelope().getEvent().getValue()));
                    } catch (io.jshim.proto.wire.InvalidProtoException e) {
                        throw new TtrpcException(Code.INVALID_ARGUMENT, e.getMessage());
                    }
                    return Empty.getDefaultInstance();
                })
                .build()
                .bind(socket);
        client = TtrpcClient.connect(socket, FIVE_S);
    }

    @AfterEach
    void stop() {
        release.countDown();
        client.close();
        server.close();
    }

    private static Bytes whereAmI() {
        Thread t = Thread.currentThread();
        return utf8((t.isVirtual() ? "virtual " : "platform ") + t.getName());
    }

    @Test
    void eachMethodRunsWhereItWasRegisteredTo() throws Exception {
        String loop = client.call(SVC, "WhereLoop", Bytes.EMPTY, CallOptions.DEFAULT).get(5, TimeUnit.SECONDS)
                .toStringUtf8();
        assertTrue(loop.startsWith("platform ttrpc-io"), loop);
        String own = client.call(SVC, "WhereDefault", Bytes.EMPTY, CallOptions.DEFAULT).get(5, TimeUnit.SECONDS)
                .toStringUtf8();
        assertTrue(own.startsWith("virtual "), own);
        // an event-loop method is answered while a blocking one waits on its own thread
        release = new CountDownLatch(1);
        CompletableFuture<Bytes> blocked = client.call(SVC, "Block", Bytes.EMPTY, CallOptions.DEFAULT);
        assertTrue(blockedStarted.await(5, TimeUnit.SECONDS));
        assertTrue(client.call(SVC, "WhereLoop", Bytes.EMPTY, CallOptions.DEFAULT).get(5, TimeUnit.SECONDS)
                .toStringUtf8().startsWith("platform ttrpc-io"));
        assertFalse(blocked.isDone());
        release.countDown();
        assertEquals(utf8("late"), blocked.get(5, TimeUnit.SECONDS));
    }

    private static Bytes utf8(String s) {
        return Bytes.copyFromUtf8(s);
    }

    private static TtrpcException failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(TtrpcException.class, e.getCause());
    }

    @Test
    void echo() throws Exception {
        assertEquals(utf8("hello"), client.call(SVC, "Echo", utf8("hello"), CallOptions.DEFAULT).get(5, TimeUnit.SECONDS));
        assertEquals(Bytes.EMPTY, client.call(SVC, "Echo", Bytes.EMPTY, CallOptions.DEFAULT).get(5, TimeUnit.SECONDS));
    }

    @Test
    void typedCallForwardsATaskExitEvent() throws Exception {
        TaskExit exit = TaskExit.newBuilder().setContainerId("c1").setId("c1").setPid(4242).setExitStatus(137)
                .setExitedAt(Timestamp.newBuilder().setSeconds(1_700_000_000)).build();
        ForwardRequest req = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(1_700_000_001))
                .setNamespace("default").setTopic("/tasks/exit").setEvent(Any.newBuilder().setTypeUrl("types.containerd.io/" + TaskExit.TYPE_NAME).setValue(exit.toByteString()))).build();
        Empty reply = client.call(EVENTS, "Forward", req, Empty.parser(), FIVE_S, Map.of("containerd-namespace-ttrpc", "default"));
        assertEquals(Empty.getDefaultInstance(), reply);
        assertEquals(List.of(exit), List.copyOf(forwarded));
    }

    @Test
    void unknownServiceAndMethodAreUnimplemented() {
        TtrpcException s = failure(client.call("no.Such", "Echo", Bytes.EMPTY, CallOptions.DEFAULT));
        assertEquals(Code.UNIMPLEMENTED, s.code());
        assertEquals("service no.Such", s.getMessage());
        TtrpcException m = failure(client.call(SVC, "Nope", Bytes.EMPTY, CallOptions.DEFAULT));
        assertEquals(Code.UNIMPLEMENTED, m.code());
        assertEquals("method Nope", m.getMessage());
    }

    @Test
    void handlerStatusCodeAndMessagePassThrough() throws Exception {
        for (Code code : Code.values()) {
            if (code == Code.OK) {
                continue;
            }
            Bytes payload = Bytes.copyFrom(new byte[] {(byte) code.value()}).concat(utf8("because " + code));
            TtrpcException e = failure(client.call(SVC, "Fail", payload, CallOptions.DEFAULT));
            assertEquals(code, e.code());
            assertEquals("because " + code, e.getMessage());
        }
        TtrpcException typed = assertThrows(TtrpcException.class, () -> client.call(SVC, "Fail",
                Empty.getDefaultInstance(), Empty.parser(), FIVE_S, null));
        // Empty serializes to nothing: byteAt(0) fails inside the handler → UNKNOWN.
        assertEquals(Code.UNKNOWN, typed.code());
    }

    @Test
    void handlerBugIsUnknownAndTheConnectionSurvives() throws Exception {
        TtrpcException e = failure(client.call(SVC, "Crash", utf8("npe"), CallOptions.DEFAULT));
        assertEquals(Code.UNKNOWN, e.code());
        assertEquals("handler bug: npe", e.getMessage());
        assertTrue(client.isOpen());
        assertEquals(utf8("ok"), client.call(SVC, "Echo", utf8("ok"), CallOptions.DEFAULT).get(5, TimeUnit.SECONDS));
    }

    @Test
    void metadataReachesTheHandlerWithRepeatedKeysInOrder() throws Exception {
        CallOptions opts = CallOptions.DEFAULT
                .withMetadata("containerd-namespace-ttrpc", "k8s.io")
                .withMetadata("traceparent", "00-abc-01")
                .withMetadata("containerd-namespace-ttrpc", "second");
        client.call(SVC, "Context", Bytes.EMPTY, opts).get(5, TimeUnit.SECONDS);
        Map<String, List<String>> expected = new LinkedHashMap<>();
        expected.put("containerd-namespace-ttrpc", List.of("k8s.io", "second"));
        expected.put("traceparent", List.of("00-abc-01"));
        assertEquals(expected, seen.get().metadata());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(seen.get().metadata().keySet()));
        assertEquals(socketPeerPid(), seen.get().peer().pid());
        assertEquals(TtrpcServer.effectiveUid(), seen.get().peer().uid());
    }

    private static int socketPeerPid() {
        return (int) ProcessHandle.current().pid(); // client and server are this process
    }

    @Test
    void deadlineIsVisibleToTheHandler() throws Exception {
        Instant before = Instant.now();
        client.call(SVC, "Context", Bytes.EMPTY, CallOptions.withTimeout(Duration.ofSeconds(7))).get(5, TimeUnit.SECONDS);
        Instant deadline = seen.get().deadline().orElseThrow();
        assertTrue(!deadline.isBefore(before.plusSeconds(6)) && !deadline.isAfter(Instant.now().plusSeconds(7)),
                "deadline " + deadline + " should be about 7 s after " + before);
        client.call(SVC, "Context", Bytes.EMPTY, CallOptions.DEFAULT).get(5, TimeUnit.SECONDS);
        assertTrue(seen.get().deadline().isEmpty(), "no timeout, no deadline");
    }

    @Test
    void hundredConcurrentCallsAnsweredInReverseOrderAreAllMatched() throws Exception {
        int n = 100;
        CountDownLatch[] g = new CountDownLatch[n];
        for (int i = 0; i < n; i++) {
            g[i] = new CountDownLatch(1);
        }
        gates = g;
        List<Integer> completionOrder = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Bytes>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            Bytes payload = Bytes.copyFrom(ByteBuffer.allocate(4).putInt(i).flip());
            CompletableFuture<Bytes> f = client.call(SVC, "Ordered", payload, CallOptions.withTimeout(Duration.ofSeconds(20)));
            f.thenRun(() -> completionOrder.add(idx));
            futures.add(f);
        }
        assertTrue(allStarted.await(10, TimeUnit.SECONDS), "all 100 handlers run at the same time");
        assertEquals(n, server.activeCalls());
        // Release the last first, and each next one only once the previous answer has arrived.
        for (int i = n - 1; i >= 0; i--) {
            g[i].countDown();
            Bytes answer = futures.get(i).get(10, TimeUnit.SECONDS);
            assertEquals(i, answer.asReadOnlyByteBuffer().getInt(), "answer matched to its call");
        }
        List<Integer> reverse = new ArrayList<>();
        for (int i = n - 1; i >= 0; i--) {
            reverse.add(i);
        }
        assertEquals(reverse, completionOrder);
        assertEquals(0, client.pendingCalls());
    }

    @Test
    void callsFromManyThreadsGetStrictlyIncreasingIds() throws Exception {
        int threads = 8;
        int perThread = 150;
        List<Thread> workers = new ArrayList<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        for (int t = 0; t < threads; t++) {
            int tt = t;
            workers.add(Thread.ofPlatform().start(() -> {
                List<CompletableFuture<Bytes>> fs = new ArrayList<>();
                for (int i = 0; i < perThread; i++) {
                    fs.add(client.call(SVC, "Echo", utf8(tt + ":" + i), CallOptions.DEFAULT));
                }
                for (int i = 0; i < perThread; i++) {
                    try {
                        assertEquals(utf8(tt + ":" + i), fs.get(i).get(10, TimeUnit.SECONDS));
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }
            }));
        }
        for (Thread w : workers) {
            w.join();
        }
        assertTrue(errors.isEmpty(), () -> "first failure: " + errors.peek());
    }

    @Test
    void callThatOutlivesItsDeadlineFailsLocallyAndTheConnectionStaysUsable() throws Exception {
        release = new CountDownLatch(1);
        long start = System.nanoTime();
        CompletableFuture<Bytes> f = client.call(SVC, "Block", Bytes.EMPTY, CallOptions.withTimeout(Duration.ofMillis(300)));
        TtrpcException e = failure(f);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(Code.DEADLINE_EXCEEDED, e.code());
        assertTrue(elapsedMs >= 290, "failed after " + elapsedMs + " ms");
        // The server measured from arrival, a little after the client started its clock.
        ServerProtocolTest.awaitTrue(() -> seen.get().isDeadlineExceeded(), "the handler sees its deadline pass");
        assertFalse(seen.get().isCancelled(), "a deadline is not a cancellation");

        release.countDown(); // the late answer now arrives and must be dropped
        assertTrue(blockedFinished.await(5, TimeUnit.SECONDS));
        ServerProtocolTest.awaitTrue(() -> server.activeCalls() == 0, "late answer written");
        assertEquals(utf8("after"), client.call(SVC, "Echo", utf8("after"), CallOptions.withTimeout(FIVE_S)).get(5, TimeUnit.SECONDS));
        assertTrue(client.isOpen());
        assertEquals(0, client.pendingCalls());
    }

    @Test
    void blockingTypedCallTimesOutWithDeadlineExceeded() {
        release = new CountDownLatch(1);
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> client.call(SVC, "Block", Empty.getDefaultInstance(), Empty.parser(), Duration.ofMillis(100), Map.of()));
        assertEquals(Code.DEADLINE_EXCEEDED, e.code());
        assertEquals("context deadline exceeded", e.getMessage());
    }

    @Test
    void pendingCallsFailWhenTheServerClosesTheConnection() throws Exception {
        release = new CountDownLatch(1);
        CountDownLatch closedCallback = new CountDownLatch(1);
        client.onClose(closedCallback::countDown);
        CompletableFuture<Bytes> f = client.call(SVC, "Block", Bytes.EMPTY, CallOptions.DEFAULT);
        assertTrue(blockedStarted.await(5, TimeUnit.SECONDS));
        server.close();
        TtrpcException e = failure(f);
        assertEquals(Code.UNAVAILABLE, e.code());
        assertEquals("ttrpc: connection closed", e.getMessage());
        assertTrue(closedCallback.await(5, TimeUnit.SECONDS), "onClose ran");
        assertFalse(client.isOpen());
        assertTrue(cancelSeen.await(5, TimeUnit.SECONDS), "closing the server cancels in-flight calls");

        TtrpcException after = failure(client.call(SVC, "Echo", Bytes.EMPTY, CallOptions.DEFAULT));
        assertEquals(Code.UNAVAILABLE, after.code());
        CountDownLatch late = new CountDownLatch(1);
        client.onClose(late::countDown);
        assertTrue(late.await(5, TimeUnit.SECONDS), "onClose after close still runs");
    }

    @Test
    void peerCloseCancelsTheHandlersCall() throws Exception {
        release = new CountDownLatch(1);
        client.call(SVC, "Block", Bytes.EMPTY, CallOptions.DEFAULT);
        assertTrue(blockedStarted.await(5, TimeUnit.SECONDS));
        assertFalse(seen.get().isCancelled());
        client.close();
        assertTrue(cancelSeen.await(5, TimeUnit.SECONDS), "handler's onCancel ran");
        assertTrue(seen.get().isCancelled());
        release.countDown();
        assertTrue(blockedFinished.await(5, TimeUnit.SECONDS));
        ServerProtocolTest.awaitTrue(() -> server.activeCalls() == 0 && server.connectionCount() == 0, "server idle");
    }

    @Test
    void oversizedRequestIsRefusedLocallyAndTheConnectionStaysUsable() throws Exception {
        TtrpcException e = failure(client.call(SVC, "Echo", Bytes.copyFrom(new byte[Frame.MAX_DATA_LENGTH]), CallOptions.DEFAULT));
        assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
        assertTrue(e.getMessage().endsWith("exceed maximum message size of 4194304"), e.getMessage());
        assertEquals(utf8("x"), client.call(SVC, "Echo", utf8("x"), CallOptions.DEFAULT).get(5, TimeUnit.SECONDS));
    }

    @Test
    void connectToAMissingSocketIsAnIOException() {
        assertThrows(IOException.class, () -> TtrpcClient.connect(dir.resolve("missing.sock"), FIVE_S));
    }

    @Test
    void gracefulShutdownLetsTheInFlightCallFinishThenCloses() throws Exception {
        release = new CountDownLatch(1);
        CompletableFuture<Bytes> inFlight = client.call(SVC, "Block", Bytes.EMPTY, CallOptions.DEFAULT);
        assertTrue(blockedStarted.await(5, TimeUnit.SECONDS));
        CompletableFuture<Void> done = server.shutdown(Duration.ofSeconds(20));
        assertThrows(IOException.class, () -> TtrpcClient.connect(socket, FIVE_S), "listener closed");
        assertFalse(done.isDone());
        release.countDown();
        assertEquals(utf8("late"), inFlight.get(5, TimeUnit.SECONDS), "the in-flight call got its answer");
        done.get(5, TimeUnit.SECONDS);
        ServerProtocolTest.awaitTrue(() -> !client.isOpen(), "idle connection closed by the server");
    }

    @Test
    void shutdownGraceEndsAStuckCall() throws Exception {
        release = new CountDownLatch(1);
        CompletableFuture<Bytes> stuck = client.call(SVC, "Block", Bytes.EMPTY, CallOptions.DEFAULT);
        assertTrue(blockedStarted.await(5, TimeUnit.SECONDS));
        long start = System.nanoTime();
        server.shutdown(Duration.ofMillis(300)).get(5, TimeUnit.SECONDS);
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) >= 290);
        assertEquals(Code.UNAVAILABLE, failure(stuck).code());
        assertTrue(cancelSeen.await(5, TimeUnit.SECONDS));
    }
}
