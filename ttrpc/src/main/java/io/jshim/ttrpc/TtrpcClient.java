package io.jshim.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.jshim.proto.ttrpc.KeyValue;
import io.jshim.proto.ttrpc.Request;
import io.jshim.proto.ttrpc.Response;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
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
 * <p>Futures returned by {@link #call(String, String, ByteString, CallOptions)} complete on the
 * I/O thread: attach only quick, non-blocking stages (or use the *Async variants).
 */
public final class TtrpcClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcClient.class);
    private static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final String CLOSED_MESSAGE = "ttrpc: connection closed";

    private final Channel channel;
    private final Path socket;

    /** Held while allocating a stream id and enqueueing its frame, so ids hit the wire in order. Never held across blocking I/O. */
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Next stream id (odd, unsigned); guarded by sendLock. */
    private int nextStreamId = 1;

    /** Calls waiting for an answer, by stream id; concurrent map. A call leaves it when its future completes. */
    private final Map<Integer, CompletableFuture<ByteString>> pending = new ConcurrentHashMap<>();
    /** Set (before pending calls are failed) once the connection is closed. */
    private volatile boolean closed;
    private final Object closeLock = new Object();
    /** Guarded by closeLock; null once the close callbacks have been taken to run. */
    private List<Runnable> closeCallbacks = new ArrayList<>(1);

    private TtrpcClient(Channel channel, Path socket) {
        this.channel = channel;
        this.socket = socket;
    }

    /** Connects on the shared event loop ({@link EventLoops#shared()}) with a 10 s timeout. */
    public static TtrpcClient connect(Path socket) throws IOException {
        return connect(socket, EventLoops.shared(), DEFAULT_CONNECT_TIMEOUT);
    }

    /** Connects to the ttrpc server at {@code socket}. Not callable from the group's own thread. */
    public static TtrpcClient connect(Path socket, EventLoopGroup group, Duration connectTimeout) throws IOException {
        ClientHandler handler = new ClientHandler();
        ChannelFuture connected = new Bootstrap()
                .group(group)
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .handler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        ch.pipeline().addLast(new FrameDecoder(), FrameEncoder.INSTANCE, handler);
                    }
                })
                .connect(new DomainSocketAddress(socket.toString()));
        connected.awaitUninterruptibly();
        if (!connected.isSuccess()) {
            Throwable cause = connected.cause();
            throw new IOException("ttrpc: cannot connect to " + socket + ": " + cause.getMessage(), cause);
        }
        TtrpcClient client = new TtrpcClient(connected.channel(), socket);
        handler.attach(client);
        return client;
    }

    /**
     * Starts a unary call. The future fails with {@link TtrpcException}: the server's status,
     * DEADLINE_EXCEEDED when {@code opts.timeout()} passes first, UNAVAILABLE "ttrpc: connection
     * closed" when the connection goes, RESOURCE_EXHAUSTED if the request is over 4 MiB.
     * Cancelling the future forgets the call (the server is not told; ttrpc has no cancel frame).
     */
    public CompletableFuture<ByteString> call(String service, String method, ByteString payload, CallOptions opts) {
        CompletableFuture<ByteString> future = new CompletableFuture<>();
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
        ByteString body = request.build().toByteString();
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
            channel.writeAndFlush(new Frame(id, Frame.TYPE_REQUEST, 0, body)).addListener(f -> {
                if (!f.isSuccess()) {
                    boolean gone = closed || !channel.isActive() || f.cause() instanceof ClosedChannelException;
                    future.completeExceptionally(gone ? closedException()
                            : new TtrpcException(Code.UNAVAILABLE, "ttrpc: write failed: " + f.cause(), f.cause()));
                }
            });
        } finally {
            sendLock.unlock();
        }
        if (timeout != null) {
            // Scheduled after the call is registered, so even a tiny timeout finds it.
            ScheduledFuture<?> timer = channel.eventLoop().schedule(() -> {
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
    public <R extends Message> R call(String service, String method, Message request, Parser<R> parser,
            Duration timeout, Map<String, String> metadata) throws TtrpcException {
        ByteString payload = call(service, method, request.toByteString(), timeout, metadata);
        try {
            return parser.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new TtrpcException(Code.INTERNAL, "ttrpc: error unmarshalling response: " + e.getMessage(), e);
        }
    }

    /** Blocking call on serialized messages; otherwise as the typed one. */
    public ByteString call(String service, String method, ByteString request, Duration timeout,
            Map<String, String> metadata) throws TtrpcException {
        CallOptions opts = new CallOptions(timeout, metadata == null ? List.of() : List.copyOf(metadata.entrySet()));
        CompletableFuture<ByteString> future = call(service, method, request, opts);
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
        return !closed && channel.isActive();
    }

    /** The socket this client connected to. */
    public Path socket() {
        return socket;
    }

    /** Closes the connection; pending calls fail with UNAVAILABLE. Idempotent. */
    @Override
    public void close() {
        ChannelFuture f = channel.close();
        if (!channel.eventLoop().inEventLoop()) {
            f.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
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
        CompletableFuture<ByteString> call = pending.remove(id);
        if (call == null) {
            // Typically the answer to a call that already timed out.
            log.debug("dropping frame type {} for unknown stream {} from {}", inbound.type(), Integer.toUnsignedString(id), socket);
            return;
        }
        switch (inbound) {
            case OversizedFrame over ->
                    call.completeExceptionally(new TtrpcException(Code.RESOURCE_EXHAUSTED, over.statusMessage()));
            case Frame frame when frame.type() == Frame.TYPE_RESPONSE -> complete(call, frame.data());
            case Frame frame -> call.completeExceptionally(new TtrpcException(Code.INTERNAL,
                    "ttrpc: protocol error: expected a response on stream " + Integer.toUnsignedString(id)
                            + ", got message type " + frame.type()));
        }
    }

    private static void complete(CompletableFuture<ByteString> call, ByteString data) {
        Response response;
        try {
            response = Response.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
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
            CompletableFuture<ByteString> call = pending.remove(id);
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

    /**
     * Pipeline end of a client connection. It exists before the client object does, so frames
     * or a close that arrive before {@link #attach} are replayed then.
     */
    private static final class ClientHandler extends SimpleChannelInboundHandler<InboundFrame> {
        /** Event loop only, except attach() which hands over through the event loop. */
        private TtrpcClient client;
        private boolean inactiveBeforeAttach;

        ClientHandler() {
            super(InboundFrame.class);
        }

        void attach(TtrpcClient c) {
            c.channel.eventLoop().execute(() -> {
                client = c;
                if (inactiveBeforeAttach) {
                    c.onInactive();
                }
            });
            // Calls made before the task above runs still see closed=false and are swept by it,
            // or by the real channelInactive later.
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, InboundFrame frame) {
            if (client != null) {
                client.onFrame(frame);
            }
            // Before attach nobody has called, so nothing can be waiting for this frame.
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (client != null) {
                client.onInactive();
            } else {
                inactiveBeforeAttach = true;
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException || cause instanceof TruncatedFrameException) {
                log.debug("closing ttrpc client connection: {}", cause.toString());
            } else {
                log.warn("closing ttrpc client connection", cause);
            }
            ctx.close();
        }
    }
}
