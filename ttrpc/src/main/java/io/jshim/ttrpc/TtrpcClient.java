package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;
import io.jshim.proto.ttrpc.KeyValue;
import io.jshim.proto.ttrpc.Request;
import io.jshim.proto.ttrpc.Response;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ttrpc client on one unix socket connection, many unary calls in flight.
 *
 * <p>Futures returned by {@link #call(String, String, Bytes, CallOptions)} complete on the
 * I/O thread ({@link IoLoop}, or the shared timer's for a deadline): attach only quick, non-blocking stages (or
 * use the *Async variants), and never wait for a call from the I/O thread.
 *
 * <p>Transport: a raw unix socket fd ({@link FrameSocket}) on the process's one I/O thread; the calling thread
 * writes its request without blocking (what the socket does not take waits in the connection's queue).
 */
public final class TtrpcClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcClient.class);
    private static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final String CLOSED_MESSAGE = "ttrpc: connection closed";

    private final FrameSocket channel;
    private final Path socket;

    /** Held while allocating a stream id and writing (or queueing) its frame, so ids hit the wire in order. */
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Next stream id (odd, unsigned); guarded by sendLock. */
    private int nextStreamId = 1;

    /** Calls waiting for an answer, by stream id; concurrent map. A call leaves it when its future completes. */
    private final Map<Integer, CompletableFuture<Bytes>> pending = new ConcurrentHashMap<>();
    /** Set (before pending calls are failed) once the connection is closed. */
    private volatile boolean closed;
    private final Object closeLock = new Object();
    /** Guarded by closeLock; null once the close callbacks have been taken to run. */
    private List<Runnable> closeCallbacks = new ArrayList<>(1);

    private TtrpcClient(FrameSocket channel, Path socket) {
        this.channel = channel;
        this.socket = socket;
    }

    /** Connects with a 10 s timeout. */
    public static TtrpcClient connect(Path socket) throws IOException {
        return connect(socket, DEFAULT_CONNECT_TIMEOUT);
    }

    /**
     * Connects to the ttrpc server at {@code socket}; {@code connectTimeout} bounds the wait for room in a full
     * listen backlog (a socket nobody listens on fails at once).
     */
    public static TtrpcClient connect(Path socket, Duration connectTimeout) throws IOException {
        int fd;
        try {
            fd = UnixSocket.connect(socket.toString(), Math.max(1, connectTimeout.toMillis()));
        } catch (IOException e) {
            throw new IOException("ttrpc: cannot connect to " + socket + ": " + e.getMessage(), e);
        }
        FrameSocket channel;
        try {
            channel = new FrameSocket(IoLoop.shared(), fd, BodyBudget.unlimited(), false);
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            throw e;
        }
        TtrpcClient client = new TtrpcClient(channel, socket);
        channel.start(new FrameSocket.Handler() {
            @Override
            public void onFrame(InboundFrame frame) {
                client.onFrame(frame);
            }

            @Override
            public void onClosed(Throwable cause) {
                if (cause instanceof IOException) {
                    log.debug("closing ttrpc client connection to {}: {}", socket, cause.toString());
                } else if (cause != null) {
                    log.warn("closing ttrpc client connection to {}", socket, cause);
                }
                client.onInactive();
            }
        });
        return client;
    }

    /**
     * Starts a unary call. The future fails with {@link TtrpcException}: the server's status,
     * DEADLINE_EXCEEDED when {@code opts.timeout()} passes first, UNAVAILABLE "ttrpc: connection
     * closed" when the connection goes, RESOURCE_EXHAUSTED if the request is over 4 MiB.
     * Cancelling the future forgets the call (the server is not told; ttrpc has no cancel frame).
     */
    public CompletableFuture<Bytes> call(String service, String method, Bytes payload, CallOptions opts) {
        CompletableFuture<Bytes> future = new CompletableFuture<>();
        Duration timeout = opts.timeout();
        if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
            future.completeExceptionally(new TtrpcException(Code.DEADLINE_EXCEEDED, "context deadline exceeded"));
            return future;
        }
        Request.Builder request = Request.newBuilder().setService(service).setMethod(method).setPayload(payload);
        if (timeout != null) {
            request.setTimeoutNano(saturatedNanos(timeout));
        }
        for (Map.Entry<String, String> kv : opts.metadata()) {
            request.addMetadata(KeyValue.newBuilder().setKey(kv.getKey()).setValue(kv.getValue()));
        }
        Bytes body = request.build().toByteString();
        if (body.size() > Frame.MAX_DATA_LENGTH) {
            future.completeExceptionally(new TtrpcException(Code.RESOURCE_EXHAUSTED, Frame.oversizedMessage(body.size())));
            return future;
        }
        if (closed) {
            future.completeExceptionally(closedException());
            return future;
        }
        sendLock.lock();
        try {
            int id = nextStreamId;
            nextStreamId += 2;
            pending.put(id, future);
            future.whenComplete((v, e) -> pending.remove(id, future));
            if (closed) {
                // Lost a race with connection close: its sweep may have missed this call.
                future.completeExceptionally(closedException());
                return future;
            }
            try {
                if (!channel.write(new Frame(id, Frame.TYPE_REQUEST, 0, body))) {
                    future.completeExceptionally(closedException());
                }
            } catch (IOException e) {
                // The socket closed itself: the server went, or left too many of our requests unread.
                future.completeExceptionally(closed ? closedException()
                        : new TtrpcException(Code.UNAVAILABLE, "ttrpc: write failed: " + e, e));
            }
        } finally {
            sendLock.unlock();
        }
        if (timeout != null) {
            // Scheduled after the call is registered, so even a tiny timeout finds it.
            ScheduledFuture<?> timer = Timers.shared().schedule(() -> {
                future.completeExceptionally(new TtrpcException(Code.DEADLINE_EXCEEDED, "context deadline exceeded"));
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            future.whenComplete((v, e) -> timer.cancel(false));
        }
        return future;
    }

    /**
     * Blocking typed call. {@code timeout} may be null (no deadline), {@code metadata} may be
     * null. An interrupt fails the call with CANCELLED and keeps the thread's interrupt flag.
     */
    public <R extends ProtoMessage> R call(String service, String method, ProtoMessage request, ProtoParser<R> parser,
            Duration timeout, Map<String, String> metadata) throws TtrpcException {
        Bytes payload = call(service, method, request.toByteString(), timeout, metadata);
        try {
            return parser.parseFrom(payload);
        } catch (InvalidProtoException e) {
            throw new TtrpcException(Code.INTERNAL, "ttrpc: error unmarshalling response: " + e.getMessage(), e);
        }
    }

    /** Blocking call on serialized messages; otherwise as the typed one. */
    public Bytes call(String service, String method, Bytes request, Duration timeout,
            Map<String, String> metadata) throws TtrpcException {
        CallOptions opts = new CallOptions(timeout, metadata == null ? List.of() : List.copyOf(metadata.entrySet()));
        CompletableFuture<Bytes> future = call(service, method, request, opts);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(false);
            Thread.currentThread().interrupt();
            throw new TtrpcException(Code.CANCELLED, "ttrpc: call interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TtrpcException te) {
                // A fresh exception so the stack shows this caller, the original as cause.
                throw new TtrpcException(te.code(), te.getMessage(), te);
            }
            throw new TtrpcException(Code.UNKNOWN, String.valueOf(e.getCause()), e.getCause());
        }
    }

    /**
     * Runs {@code callback} once the connection has closed (whoever closed it), after every
     * pending call has failed; at once if it already has. Callbacks run on a virtual thread and
     * may block.
     */
    public void onClose(Runnable callback) {
        synchronized (closeLock) {
            if (closeCallbacks != null) {
                closeCallbacks.add(callback);
                return;
            }
        }
        Thread.ofVirtual().name("ttrpc-client-onclose").start(callback);
    }

    public boolean isOpen() {
        return !closed && channel.isOpen();
    }

    /** The socket this client connected to. */
    public Path socket() {
        return socket;
    }

    /** Closes the connection; pending calls fail with UNAVAILABLE. Idempotent. */
    @Override
    public void close() {
        channel.close();
        channel.awaitClosed(5_000); // at once on the I/O thread (a stage of a call's future may close)
    }

    /** Number of calls waiting for an answer. */
    public int pendingCalls() {
        return pending.size();
    }

    private static TtrpcException closedException() {
        return new TtrpcException(Code.UNAVAILABLE, CLOSED_MESSAGE);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    // ---- I/O thread side ----

    private void onFrame(InboundFrame inbound) {
        int id = inbound.streamId();
        CompletableFuture<Bytes> call = pending.remove(id);
        if (call == null) {
            // Typically the answer to a call that already timed out.
            log.debug("dropping frame type {} for unknown stream {} from {}", inbound.type(), Integer.toUnsignedString(id), socket);
            return;
        }
        // instanceof, not a pattern switch: the switch's bootstrap would spin classes on the first answer
        if (inbound instanceof OversizedFrame over) {
            call.completeExceptionally(new TtrpcException(Code.RESOURCE_EXHAUSTED, over.statusMessage()));
        } else if (inbound.type() == Frame.TYPE_RESPONSE) {
            complete(call, ((Frame) inbound).data());
        } else {
            call.completeExceptionally(new TtrpcException(Code.INTERNAL,
                    "ttrpc: protocol error: expected a response on stream " + Integer.toUnsignedString(id)
                            + ", got message type " + inbound.type()));
        }
    }

    private static void complete(CompletableFuture<Bytes> call, Bytes data) {
        Response response;
        try {
            response = Response.parseFrom(data);
        } catch (InvalidProtoException e) {
            call.completeExceptionally(new TtrpcException(Code.INTERNAL, "ttrpc: cannot parse response: " + e.getMessage(), e));
            return;
        }
        // Go's rule: success is "no status, or status code 0".
        if (response.hasStatus() && response.getStatus().getCode() != Code.OK.value()) {
            call.completeExceptionally(TtrpcException.fromStatus(response.getStatus()));
        } else {
            call.complete(response.getPayload());
        }
    }

    private void onInactive() {
        closed = true;
        if (!pending.isEmpty()) {
            log.debug("connection to {} closed with {} calls pending", socket, pending.size());
        }
        for (Integer id : List.copyOf(pending.keySet())) {
            CompletableFuture<Bytes> call = pending.remove(id);
            if (call != null) {
                call.completeExceptionally(closedException());
            }
        }
        List<Runnable> callbacks;
        synchronized (closeLock) {
            callbacks = closeCallbacks;
            closeCallbacks = null;
        }
        if (callbacks != null && !callbacks.isEmpty()) {
            Thread.ofVirtual().name("ttrpc-client-onclose").start(() -> callbacks.forEach(TtrpcClient::runCallback));
        }
    }

    private static void runCallback(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.warn("onClose callback failed", e);
        }
    }
}
