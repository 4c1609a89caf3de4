package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.rpc.Status;
import io.jshim.proto.ttrpc.KeyValue;
import io.jshim.proto.ttrpc.Request;
import io.jshim.proto.ttrpc.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the body of a Request frame into the Response to send: parses the Request and finds the
 * handler ({@link #prepare}, on the I/O thread), runs it ({@link #run}, where the method's
 * {@link Execution} says) and maps the outcome to a status the way Go ttrpc does. Never throws.
 * Thread-safe (the registry is immutable).
 */
final class Dispatcher {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    /** Go sets an empty Status on success, which puts the bytes 0a 00 before the payload. */
    private static final Status OK_STATUS = Status.getDefaultInstance();

    /** service → method → handler; immutable. */
    private final Map<String, Map<String, UnaryHandler>> services;
    /** "service/method" of the handlers registered to run on the I/O thread ({@link Execution#EVENT_LOOP}); immutable. */
    private final Set<String> onEventLoop;

    Dispatcher(Map<String, Map<String, UnaryHandler>> services) {
        this(services, Set.of());
    }

    Dispatcher(Map<String, Map<String, UnaryHandler>> services, Set<String> onEventLoop) {
        this.services = services;
        this.onEventLoop = onEventLoop;
    }

    /** A request read and matched: its answer already, or the handler to run. */
    sealed interface Prepared permits Answered, Call {}

    /** The request does not parse or names nothing registered: this is the answer. */
    record Answered(Response response) implements Prepared {}

    /** A call to run; {@code onEventLoop}: where the handler was registered to run. */
    record Call(Request request, UnaryHandler handler, boolean onEventLoop) implements Prepared {}

    /** Parses the frame body and finds its handler. */
    Prepared prepare(Bytes requestBytes) {
        Request request;
        try {
            request = Request.parseFrom(requestBytes);
        } catch (InvalidProtoException e) {
            return new Answered(error(Code.INVALID_ARGUMENT, "unmarshal request error: " + e.getMessage()));
        }
        Map<String, UnaryHandler> methods = services.get(request.getService());
        if (methods == null) {
            return new Answered(error(Code.UNIMPLEMENTED, "service " + request.getService()));
        }
        UnaryHandler handler = methods.get(request.getMethod());
        if (handler == null) {
            return new Answered(error(Code.UNIMPLEMENTED, "method " + request.getMethod()));
        }
        return new Call(request, handler, onEventLoop.contains(request.getService() + "/" + request.getMethod()));
    }

    /** {@link #prepare} and {@link #run} in one, on the calling thread. */
    Response dispatch(Bytes requestBytes, PeerCredentials peer, Cancellation cancellation,
            Instant receivedAt, long receivedNanos) {
        Prepared prepared = prepare(requestBytes);
        return prepared instanceof Call call ? run(call, peer, cancellation, receivedAt, receivedNanos)
                : ((Answered) prepared).response();
    }

    /**
     * Runs the handler and turns its outcome into the Response.
     *
     * @param receivedAt    wall-clock arrival time (the deadline is reported from it)
     * @param receivedNanos System.nanoTime() at arrival (the deadline is measured from it)
     */
    Response run(Call call, PeerCredentials peer, Cancellation cancellation, Instant receivedAt, long receivedNanos) {
        Request request = call.request();
        UnaryHandler handler = call.handler();
        long timeout = request.getTimeoutNano();
        CallContext ctx = new CallContext(request.getService(), request.getMethod(), group(request.getMetadataList()),
                timeout == 0 ? null : receivedAt.plusNanos(timeout), receivedNanos + timeout, peer, cancellation);
        Bytes result;
        try {
            result = handler.handle(ctx, request.getPayload());
        } catch (TtrpcException e) {
            return Response.newBuilder().setStatus(e.toStatus()).build();
        } catch (RuntimeException | Error e) {
            // A handler bug must cost one call, never the connection or the server.
            log.warn("handler /{}/{} failed (peer pid {})", request.getService(), request.getMethod(), peer.pid(), e);
            String message = e.getMessage() != null ? e.getMessage() : e.getClass().getName();
            return error(Code.UNKNOWN, message);
        }
        if (result == null) {
            return error(Code.UNKNOWN, "ttrpc: marshal called with nil");
        }
        Response response = Response.newBuilder().setStatus(OK_STATUS).setPayload(result).build();
        // Go would fail to send this and drop the connection; answering on the stream is kinder.
        int size = response.getSerializedSize();
        if (size > Frame.MAX_DATA_LENGTH) {
            log.warn("response to /{}/{} is {} bytes, over the frame limit", request.getService(), request.getMethod(), size);
            return error(Code.RESOURCE_EXHAUSTED, Frame.oversizedMessage(size));
        }
        return response;
    }

    static Response error(Code code, String message) {
        return Response.newBuilder()
                .setStatus(Status.newBuilder().setCode(code.value()).setMessage(message))
                .build();
    }

    private static Map<String, List<String>> group(List<KeyValue> pairs) {
        if (pairs.isEmpty()) {
            return Map.of();
        }
        Map<String, List<String>> grouped = new LinkedHashMap<>();
        for (KeyValue kv : pairs) {
            grouped.computeIfAbsent(kv.getKey(), k -> new ArrayList<>(1)).add(kv.getValue());
        }
        grouped.replaceAll((k, v) -> Collections.unmodifiableList(v));
        return Collections.unmodifiableMap(grouped);
    }
}
