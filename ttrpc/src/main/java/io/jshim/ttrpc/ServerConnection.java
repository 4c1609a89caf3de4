package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.ttrpc.Response;
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
 * One accepted connection on the server: enforces the stream-id rules, starts each request on the call executor
 * (or, for a method registered with {@link Execution#EVENT_LOOP}, runs it right here on the I/O thread) and
 * writes its Response when ready (in completion order).
 *
 * <p>Threading: frames arrive on the I/O thread ({@link IoLoop}); answers are written by whichever thread finished
 * the call (writes never block, {@link FrameSocket}). The call bookkeeping below is shared by those threads and
 * guarded by {@code this}.
 */
final class ServerConnection implements FrameSocket.Handler {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

    private final FrameSocket socket;
    private final Dispatcher dispatcher;
    private final Executor executor;
    private final PeerCredentials peer;
    /** Server-wide count of calls started and not yet answered; shared, atomic. */
    private final AtomicInteger activeCalls;
    /** Run once on the I/O thread when the connection has closed (the server forgets it). */
    private final Runnable onClosed;

    /** Highest request id seen, as unsigned; 0 before the first request. I/O thread only. */
    private int lastRequestId;
    /** Calls started and not yet written, by stream id. Guarded by this. */
    private final Map<Integer, Cancellation> inflight = new HashMap<>();
    /** Set by a graceful shutdown: close as soon as no call is in flight. Guarded by this. */
    private boolean draining;

    ServerConnection(FrameSocket socket, Dispatcher dispatcher, Executor executor, PeerCredentials peer,
            AtomicInteger activeCalls, Runnable onClosed) {
        this.socket = socket;
        this.dispatcher = dispatcher;
        this.executor = executor;
        this.peer = peer;
        this.activeCalls = activeCalls;
        this.onClosed = onClosed;
    }

    @Override
    public void onFrame(InboundFrame inbound) {
        // instanceof, not a pattern switch: the switch's bootstrap would spin a class on the first request of a
        // cold shim, on containerd's path
        if (inbound instanceof OversizedFrame over) {
            log.debug("peer pid {} sent an oversized frame ({} bytes) on stream {}", peer.pid(), over.length(),
                    Integer.toUnsignedString(over.streamId()));
            sendStatus(over.streamId(), Code.RESOURCE_EXHAUSTED, over.statusMessage());
        } else {
            onFrame((Frame) inbound);
        }
    }

    private void onFrame(Frame frame) {
        int id = frame.streamId();
        if ((id & 1) == 0) {
            sendStatus(id, Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
            return;
        }
        int type = frame.type();
        if (type == Frame.TYPE_REQUEST) {
            if (Integer.compareUnsigned(id, lastRequestId) <= 0) {
                sendStatus(id, Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment");
                return;
            }
            lastRequestId = id;
            start(id, frame.data());
        } else if (type == Frame.TYPE_DATA) {
            boolean active;
            synchronized (this) {
                active = inflight.containsKey(id);
            }
            if (!active) {
                sendStatus(id, Code.INVALID_ARGUMENT, "StreamID is no longer active");
            } else {
                // Every method here is unary: nothing reads stream data, so it is dropped.
                log.debug("peer pid {}: dropping data frame on unary stream {}", peer.pid(), Integer.toUnsignedString(id));
            }
        } else {
            // Ignored for forward compatibility, as Go does.
            log.debug("peer pid {}: ignoring frame of unknown type {}", peer.pid(), type);
        }
    }

    private void start(int id, Bytes body) {
        Cancellation cancellation = new Cancellation();
        Instant receivedAt = Instant.now();
        long receivedNanos = System.nanoTime();
        Dispatcher.Prepared prepared = dispatcher.prepare(body);
        synchronized (this) {
            inflight.put(id, cancellation);
        }
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
            synchronized (this) {
                inflight.remove(id);
            }
            sendStatus(id, Code.UNAVAILABLE, "ttrpc: server closed");
        }
    }

    /** Runs on a call thread, or on the I/O thread for an answer already made and for never-blocking handlers. */
    private void run(int id, Dispatcher.Prepared prepared, Cancellation cancellation, Instant receivedAt,
            long receivedNanos) {
        Response response;
        try {
            response = prepared instanceof Dispatcher.Call call
                    ? dispatcher.run(call, peer, cancellation, receivedAt, receivedNanos)
                    : ((Dispatcher.Answered) prepared).response();
        } finally {
            // Before the write: once the peer has its answer, the call no longer counts as active.
            activeCalls.decrementAndGet();
        }
        try {
            // Dropped if the peer went away meanwhile, as in Go.
            write(new Frame(id, Frame.TYPE_RESPONSE, 0, response.toByteString()));
        } finally {
            boolean close;
            synchronized (this) {
                inflight.remove(id);
                close = draining && inflight.isEmpty();
            }
            if (close) {
                socket.close();
            }
        }
    }

    private void sendStatus(int id, Code code, String message) {
        write(new Frame(id, Frame.TYPE_RESPONSE, 0, Dispatcher.error(code, message).toByteString()));
    }

    private void write(Frame frame) {
        try {
            socket.write(frame);
        } catch (IOException e) {
            // The socket closed itself: the peer went, or left too many answers unread.
            log.debug("connection from pid {}: write failed, closed: {}", peer.pid(), e.toString());
        }
    }

    /** Graceful shutdown: stop once idle (requests already arriving are still served). Any thread. */
    void drain() {
        boolean close;
        synchronized (this) {
            draining = true;
            close = inflight.isEmpty();
        }
        if (close) {
            socket.close();
        }
    }

    /** Immediate close; in-flight calls see cancellation once the I/O thread has released the fd. Any thread. */
    void close() {
        socket.close();
    }

    void awaitClosed(long millis) {
        socket.awaitClosed(millis);
    }

    @Override
    public void onClosed(Throwable cause) {
        if (cause == null) {
            log.debug("connection from pid {} closed", peer.pid());
        } else if (cause instanceof IOException) {
            // The peer's doing (it left mid-frame, or reset): not worth a warning and a stack trace in
            // containerd's log for every such peer.
            log.debug("closing connection from pid {}: {}", peer.pid(), cause.toString());
        } else {
            log.warn("closing connection from pid {}", peer.pid(), cause);
        }
        ArrayList<Cancellation> cancel;
        synchronized (this) {
            // Copy: a cancellation callback may complete a call, which edits the map.
            cancel = new ArrayList<>(inflight.values());
        }
        if (!cancel.isEmpty()) {
            log.debug("peer pid {} went away with {} calls in flight; cancelling them", peer.pid(), cancel.size());
            for (int i = 0; i < cancel.size(); i++) {
                cancel.get(i).cancel();
            }
        }
        onClosed.run();
    }
}
