package io.jshim.ttrpc;

import com.google.protobuf.ByteString;
import io.jshim.proto.ttrpc.Response;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted connection on the server: enforces the stream-id rules, starts each request on
 * the call executor (or, for a method registered with {@link Execution#EVENT_LOOP}, runs it right
 * here) and writes its Response when ready (in completion order).
 *
 * <p>Threading: every field without a note is touched only on the channel's event loop
 * (channelRead, write listeners, channelInactive, drain). Handlers on the executor only call
 * {@code channel.writeAndFlush}, which is thread-safe; one frame is one outbound message, so
 * frames never interleave.
 */
final class ServerConnection extends SimpleChannelInboundHandler<InboundFrame> {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

    private final Dispatcher dispatcher;
    private final Executor executor;
    private final PeerCredentials peer;
    /** Server-wide count of calls started and not yet answered; shared, atomic. */
    private final AtomicInteger activeCalls;

    /** Highest request id seen, as unsigned; 0 before the first request. */
    private int lastRequestId;
    /** Calls started and not yet written, by stream id. */
    private final Map<Integer, Cancellation> inflight = new HashMap<>();
    /** Set by a graceful shutdown: close as soon as no call is in flight. */
    private boolean draining;
    private Channel channel;

    ServerConnection(Dispatcher dispatcher, Executor executor, PeerCredentials peer, AtomicInteger activeCalls) {
        super(InboundFrame.class);
        this.dispatcher = dispatcher;
        this.executor = executor;
        this.peer = peer;
        this.activeCalls = activeCalls;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, InboundFrame inbound) {
        switch (inbound) {
            case OversizedFrame over -> {
                log.debug("peer pid {} sent an oversized frame ({} bytes) on stream {}", peer.pid(), over.length(),
                        Integer.toUnsignedString(over.streamId()));
                sendStatus(over.streamId(), Code.RESOURCE_EXHAUSTED, over.statusMessage());
            }
            case Frame frame -> onFrame(frame);
        }
    }

    private void onFrame(Frame frame) {
        int id = frame.streamId();
        if ((id & 1) == 0) {
            sendStatus(id, Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
            return;
        }
        switch (frame.type()) {
            case Frame.TYPE_REQUEST -> {
                if (Integer.compareUnsigned(id, lastRequestId) <= 0) {
                    sendStatus(id, Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment");
                    return;
                }
                lastRequestId = id;
                start(id, frame.data());
            }
            case Frame.TYPE_DATA -> {
                if (!inflight.containsKey(id)) {
                    sendStatus(id, Code.INVALID_ARGUMENT, "StreamID is no longer active");
                } else {
                    // Every method here is unary: nothing reads stream data, so it is dropped.
                    log.debug("peer pid {}: dropping data frame on unary stream {}", peer.pid(), Integer.toUnsignedString(id));
                }
            }
            // Ignored for forward compatibility, as Go does.
            default -> log.debug("peer pid {}: ignoring frame of unknown type {}", peer.pid(), frame.type());
        }
    }

    private void start(int id, ByteString body) {
        Cancellation cancellation = new Cancellation();
        Instant receivedAt = Instant.now();
        long receivedNanos = System.nanoTime();
        Dispatcher.Prepared prepared = dispatcher.prepare(body);
        inflight.put(id, cancellation);
        activeCalls.incrementAndGet();
        if (!(prepared instanceof Dispatcher.Call call) || call.onEventLoop()) {
            // Answered already, or a handler registered not to block: no hand-off to a thread, none back to write.
            run(id, prepared, cancellation, receivedAt, receivedNanos);
            return;
        }
        try {
            executor.execute(() -> run(id, prepared, cancellation, receivedAt, receivedNanos));
        } catch (RejectedExecutionException e) {
            // The server is closing; this connection is about to go too.
            activeCalls.decrementAndGet();
            inflight.remove(id);
            sendStatus(id, Code.UNAVAILABLE, "ttrpc: server closed");
        }
    }

    /** Runs on a call thread, or on the event loop for an answer already made and for event-loop handlers. */
    private void run(int id, Dispatcher.Prepared prepared, Cancellation cancellation, Instant receivedAt,
            long receivedNanos) {
        try {
            // instanceof, not a pattern switch: the switch's bootstrap would spin a class on the first request of a
            // cold shim, on containerd's path
            Response response = prepared instanceof Dispatcher.Call call
                    ? dispatcher.run(call, peer, cancellation, receivedAt, receivedNanos)
                    : ((Dispatcher.Answered) prepared).response();
            if (!channel.isActive()) {
                return; // the peer went away: the answer is dropped, as in Go
            }
            channel.writeAndFlush(new Frame(id, Frame.TYPE_RESPONSE, 0, response.toByteString()))
                    .addListener(f -> {
                        inflight.remove(id);
                        closeIfDrained();
                    });
        } finally {
            activeCalls.decrementAndGet();
        }
    }

    private void sendStatus(int id, Code code, String message) {
        channel.writeAndFlush(new Frame(id, Frame.TYPE_RESPONSE, 0, Dispatcher.error(code, message).toByteString()));
    }

    /** Event loop only. Graceful shutdown: stop once idle (requests already arriving are still served). */
    void drain() {
        draining = true;
        closeIfDrained();
    }

    private void closeIfDrained() {
        if (draining && inflight.isEmpty()) {
            channel.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        log.debug("connection from pid {} closed", peer.pid());
        if (!inflight.isEmpty()) {
            log.debug("peer pid {} went away with {} calls in flight; cancelling them", peer.pid(), inflight.size());
            // Copy: a cancellation callback may complete a call whose write listener edits the map.
            new ArrayList<>(inflight.values()).forEach(Cancellation::cancel);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The decoder's exceptions arrive wrapped in Netty's DecoderException.
        Throwable reason = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                ? cause.getCause() : cause;
        if (reason instanceof TruncatedFrameException || reason instanceof IOException) {
            // The peer's doing (it left mid-frame, or reset): not worth a warning and a stack trace in
            // containerd's log for every such peer.
            log.debug("closing connection from pid {}: {}", peer.pid(), reason);
        } else {
            log.warn("closing connection from pid {}", peer.pid(), cause);
        }
        ctx.close();
    }
}
