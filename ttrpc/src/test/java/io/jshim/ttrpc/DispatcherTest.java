package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.eventsvc.Envelope;
import io.jshim.proto.eventsvc.ForwardRequest;
import io.jshim.proto.ttrpc.KeyValue;
import io.jshim.proto.ttrpc.Request;
import io.jshim.proto.ttrpc.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DispatcherTest {
    private static final PeerCredentials PEER = new PeerCredentials(1234, 0, 0);

    private final AtomicReference<CallContext> lastContext = new AtomicReference<>();

    private Response dispatch(UnaryHandler handler, Request request) {
        Dispatcher d = new Dispatcher(Map.of("svc", Map.of("M", handler)));
        return d.dispatch(request.toByteString(), PEER, new Cancellation(), Instant.now(), System.nanoTime());
    }

    private static Request req(String service, String method, Bytes payload) {
        return Request.newBuilder().setService(service).setMethod(method).setPayload(payload).build();
    }

    private static void assertStatus(Response r, Code code, String message) {
        assertEquals(code.value(), r.getStatus().getCode(), r.toString());
        assertEquals(message, r.getStatus().getMessage());
        assertTrue(r.getPayload().isEmpty(), "an error carries no payload");
    }

    @Test
    void okResponseCarriesAnEmptyStatusBeforeThePayloadLikeGo() {
        Response r = dispatch((ctx, p) -> p.concat(Bytes.copyFromUtf8("!")), req("svc", "M", Bytes.copyFromUtf8("hi")));
        assertEquals(Bytes.copyFromUtf8("hi!"), r.getPayload());
        byte[] wire = r.toByteArray();
        assertEquals(0x0a, wire[0]);
        assertEquals(0x00, wire[1]);
        assertEquals(0x12, wire[2]);
    }

    @Test
    void unknownServiceAndMethodAreUnimplemented() {
        assertStatus(dispatch((ctx, p) -> p, req("other", "M", Bytes.EMPTY)), Code.UNIMPLEMENTED, "service other");
        assertStatus(dispatch((ctx, p) -> p, req("svc", "Nope", Bytes.EMPTY)), Code.UNIMPLEMENTED, "method Nope");
    }

    @Test
    void requestThatDoesNotParseIsInvalidArgument() {
        Dispatcher d = new Dispatcher(Map.of());
        Response r = d.dispatch(Bytes.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}), PEER,
                new Cancellation(), Instant.now(), System.nanoTime());
        assertEquals(Code.INVALID_ARGUMENT.value(), r.getStatus().getCode());
        assertTrue(r.getStatus().getMessage().startsWith("unmarshal request error: "), r.getStatus().getMessage());
    }

    @Test
    void handlerStatusPassesThroughUnchanged() {
        Response r = dispatch((ctx, p) -> {
            throw new TtrpcException(Code.NOT_FOUND, "exec e1 not found: not found");
        }, req("svc", "M", Bytes.EMPTY));
        assertStatus(r, Code.NOT_FOUND, "exec e1 not found: not found");
    }

    @Test
    void runtimeExceptionAndErrorBecomeUnknownWithTheirMessage() {
        assertStatus(dispatch((ctx, p) -> {
            throw new IllegalStateException("boom");
        }, req("svc", "M", Bytes.EMPTY)), Code.UNKNOWN, "boom");
        assertStatus(dispatch((ctx, p) -> {
            throw new NullPointerException();
        }, req("svc", "M", Bytes.EMPTY)), Code.UNKNOWN, "java.lang.NullPointerException");
        assertStatus(dispatch((ctx, p) -> {
            throw new StackOverflowError("deep");
        }, req("svc", "M", Bytes.EMPTY)), Code.UNKNOWN, "deep");
    }

    @Test
    void nullResultIsUnknownLikeGo() {
        assertStatus(dispatch((ctx, p) -> null, req("svc", "M", Bytes.EMPTY)), Code.UNKNOWN, "ttrpc: marshal called with nil");
    }

    @Test
    void responseOverTheFrameLimitBecomesResourceExhausted() {
        Response r = dispatch((ctx, p) -> Bytes.copyFrom(new byte[Frame.MAX_DATA_LENGTH]), req("svc", "M", Bytes.EMPTY));
        assertEquals(Code.RESOURCE_EXHAUSTED.value(), r.getStatus().getCode());
        assertTrue(r.getStatus().getMessage().startsWith("message length 41943"), r.getStatus().getMessage());
    }

    @Test
    void metadataIsGroupedByKeyInArrivalOrder() {
        Request request = req("svc", "M", Bytes.EMPTY).toBuilder()
                .addMetadata(KeyValue.newBuilder().setKey("b").setValue("1"))
                .addMetadata(KeyValue.newBuilder().setKey("A").setValue("x"))
                .addMetadata(KeyValue.newBuilder().setKey("b").setValue("2"))
                .build();
        dispatch((ctx, p) -> {
            lastContext.set(ctx);
            return p;
        }, request);
        CallContext ctx = lastContext.get();
        assertEquals(List.of("b", "A"), List.copyOf(ctx.metadata().keySet()), "keys keep arrival order and case");
        assertEquals(List.of("1", "2"), ctx.metadata().get("b"));
        assertEquals("x", ctx.metadataValue("A").orElseThrow());
        assertEquals("svc", ctx.service());
        assertEquals("M", ctx.method());
        assertEquals(PEER, ctx.peer());
    }

    @Test
    void timeoutNanoBecomesADeadlineAndZeroMeansNone() {
        Instant before = Instant.now();
        dispatch((ctx, p) -> {
            lastContext.set(ctx);
            return p;
        }, req("svc", "M", Bytes.EMPTY).toBuilder().setTimeoutNano(Duration.ofSeconds(30).toNanos()).build());
        CallContext ctx = lastContext.get();
        Instant deadline = ctx.deadline().orElseThrow();
        assertFalse(deadline.isBefore(before.plusSeconds(30)));
        assertTrue(deadline.isBefore(Instant.now().plusSeconds(31)));
        assertFalse(ctx.isDeadlineExceeded());
        assertTrue(ctx.remaining().orElseThrow().toMillis() > 29_000);

        dispatch((ctx2, p) -> {
            lastContext.set(ctx2);
            return p;
        }, req("svc", "M", Bytes.EMPTY));
        assertTrue(lastContext.get().deadline().isEmpty());
        assertFalse(lastContext.get().isDeadlineExceeded());

        dispatch((ctx3, p) -> {
            lastContext.set(ctx3);
            return p;
        }, req("svc", "M", Bytes.EMPTY).toBuilder().setTimeoutNano(-1).build());
        assertTrue(lastContext.get().isDeadlineExceeded(), "a negative timeout is already expired");
    }

    @Test
    void typedHandlerParsesAndUnparsablePayloadIsInternal() {
        AtomicReference<ForwardRequest> got = new AtomicReference<>();
        TtrpcServer.Builder capture = TtrpcServer.builder();
        capture.register("svc", "M", ForwardRequest.parser(), (ctx, fr) -> {
            got.set(fr);
            return fr.getEnvelope();
        });
        ForwardRequest fr = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder().setTopic("/tasks/exit")).build();
        Dispatcher d = capture.dispatcher();
        Response ok = d.dispatch(req("svc", "M", fr.toByteString()).toByteString(), PEER, new Cancellation(), Instant.now(), System.nanoTime());
        assertEquals(0, ok.getStatus().getCode());
        assertEquals("/tasks/exit", got.get().getEnvelope().getTopic());
        assertEquals(fr.getEnvelope().toByteString(), ok.getPayload());

        Response bad = d.dispatch(req("svc", "M", Bytes.copyFrom(new byte[] {0x0a, 0x7f})).toByteString(), PEER,
                new Cancellation(), Instant.now(), System.nanoTime());
        assertEquals(Code.INTERNAL.value(), bad.getStatus().getCode());
        assertTrue(bad.getStatus().getMessage().startsWith("ttrpc: error unmarshalling payload: "), bad.getStatus().getMessage());
    }

    @Test
    void cancellationRunsCallbacksOnceAndLateCallbacksAtOnce() {
        Cancellation c = new Cancellation();
        int[] runs = new int[2];
        c.onCancel(() -> runs[0]++);
        assertFalse(c.isCancelled());
        c.cancel();
        c.cancel();
        assertTrue(c.isCancelled());
        c.onCancel(() -> runs[1]++);
        assertEquals(1, runs[0]);
        assertEquals(1, runs[1]);
    }
}
