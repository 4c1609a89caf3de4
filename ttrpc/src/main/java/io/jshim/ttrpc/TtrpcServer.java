package io.jshim.ttrpc;

import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ttrpc server for unary methods on unix sockets.
 *
 * <pre>{@code
 * TtrpcServer server = TtrpcServer.builder()
 *         .register("containerd.task.v3.Task", "Connect", ConnectRequest.parser(), task::connect)
 *         .build()
 *         .bind(socketPath);
 * }</pre>
 *
 * Each request runs on its own virtual thread (or, for a method registered with {@link Execution#EVENT_LOOP},
 * on the I/O thread that read it); answers go out as they complete. Every accepted connection is checked
 * against the peer policy (by default: same uid as this process) before anything is read from it.
 *
 * <p>I/O: raw unix socket fds on the process's one I/O thread ({@link IoLoop}, epoll through the shim's own libc
 * calls): listening sockets ({@link Listener}) and connections ({@link FrameSocket}) alike. An idle or half-sent
 * peer holds no thread.
 */
public final class TtrpcServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcServer.class);
    private static final long CLOSE_WAIT_SECONDS = 5;

    private enum State { RUNNING, DRAINING, CLOSED }

    private final Dispatcher dispatcher;
    private final Predicate<PeerCredentials> peerPolicy;
    private final ExecutorService callExecutor;
    private final IoLoop loop = IoLoop.shared();
    private final AtomicInteger activeCalls = new AtomicInteger();
    /**
     * Large request bodies held at once over all connections: two of the largest frames. Peers
     * that send more wait (their reads pause), so malformed or hostile input cannot grow the heap
     * by 4 MiB per connection.
     */
    private final BodyBudget bodyBudget = new BodyBudget(2L * Frame.MAX_DATA_LENGTH);

    /** Guards state transitions (never held during I/O waits). */
    private final Object lifecycle = new Object();
    /** Guarded by lifecycle for writes; volatile for the accept path's reads. */
    private volatile State state = State.RUNNING;
    /** Listening sockets; thread-safe list. */
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    /** Accepted, open connections; concurrent set. */
    private final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    /** Set once by shutdown(); completed when the last connection has closed. */
    private volatile CompletableFuture<Void> drainedFuture;
    /** Completes when the server is closed and every connection is gone. */
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private TtrpcServer(Builder b) {
        this.dispatcher = b.dispatcher();
        if (b.peerPolicy != null) {
            this.peerPolicy = b.peerPolicy;
        } else if (b.requireSameUser) {
            this.peerPolicy = sameUserAs(ProcessIdentity.effectiveUid());
        } else {
            this.peerPolicy = peer -> true;
        }
        this.callExecutor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ttrpc-call-", 0).factory());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Accepts peers whose uid is {@code uid} (ttrpc's RequireSameUser with our euid). */
    public static Predicate<PeerCredentials> sameUserAs(int uid) {
        return peer -> peer.uid() == uid;
    }

    /** This process's effective uid (from /proc/self/status). */
    public static int effectiveUid() {
        return ProcessIdentity.effectiveUid();
    }

    /**
     * Creates the socket at {@code socketPath}, listens on it and restricts it to its owner
     * (0600). The path must not exist. The file is removed on close if it is still this socket.
     */
    public TtrpcServer bind(Path socketPath) throws IOException {
        checkRunning();
        addListener(Listener.bind(loop, socketPath));
        log.debug("listening on {}", socketPath);
        return this;
    }

    /**
     * Serves an already-listening unix socket, e.g. fd 3 inherited from the process that bound
     * it. The fd is made non-blocking and owned by the server from now on (closed with it). Its
     * socket file is not removed on close.
     */
    public TtrpcServer adopt(int listeningFd) throws IOException {
        checkRunning();
        addListener(Listener.adopt(loop, listeningFd));
        log.debug("serving adopted fd {}", listeningFd);
        return this;
    }

    /** On the I/O thread, for each new connection, before anything is read from it. */
    private void accept(int fd) {
        PeerCredentials peer;
        try {
            UnixSocket.Credentials c = UnixSocket.peerCredentials(fd);
            peer = new PeerCredentials(c.pid(), c.uid(), c.gid());
        } catch (IOException e) {
            log.warn("closing a connection whose peer credentials cannot be read", e);
            UnixSocket.close(fd);
            return;
        }
        if (!peerPolicy.test(peer)) {
            log.warn("closing connection from pid {} uid {}: peer not allowed (server euid {})",
                    peer.pid(), peer.uid(), ProcessIdentity.effectiveUid());
            UnixSocket.close(fd);
            return;
        }
        if (state != State.RUNNING) {
            UnixSocket.close(fd);
            return;
        }
        FrameSocket socket;
        try {
            socket = new FrameSocket(loop, fd, bodyBudget, true);
        } catch (IOException e) {
            log.warn("closing connection from pid {}: {}", peer.pid(), e.toString());
            UnixSocket.close(fd);
            return;
        }
        log.debug("connection from pid {} uid {}", peer.pid(), peer.uid());
        ServerConnection[] self = new ServerConnection[1];
        ServerConnection connection = new ServerConnection(socket, dispatcher, callExecutor, peer, activeCalls,
                () -> {
                    connections.remove(self[0]);
                    completeDrainIfIdle();
                });
        self[0] = connection;
        connections.add(connection);
        socket.start(connection);
        if (state != State.RUNNING) {
            // Lost a race with shutdown/close, which may have swept the set before this one was in it.
            connection.close();
        }
    }

    /**
     * Graceful stop: closes the listeners, then closes each connection as soon as it has no
     * call in flight, and after {@code grace} closes whatever is left. Returns at once; the
     * future completes when everything is closed.
     *
     * <p>A handler may call this (e.g. a Shutdown method): its own call is in flight, so its
     * connection closes after its answer is written. Do not block the handler on the future.
     */
    public CompletableFuture<Void> shutdown(Duration grace) {
        synchronized (lifecycle) {
            if (state != State.RUNNING) {
                return terminated;
            }
            state = State.DRAINING;
        }
        for (Listener listener : listeners) {
            listener.close();
        }
        CompletableFuture<Void> drained = new CompletableFuture<>();
        drainedFuture = drained;
        for (ServerConnection connection : connections) {
            connection.drain();
        }
        ScheduledFuture<?> force = Timers.shared().schedule(this::close, grace.toNanos(), TimeUnit.NANOSECONDS);
        completeDrainIfIdle();
        drained.whenComplete((v, e) -> {
            force.cancel(false);
            close();
        });
        return terminated;
    }

    private void completeDrainIfIdle() {
        if (state == State.RUNNING || !connections.isEmpty()) {
            return;
        }
        CompletableFuture<Void> drained = drainedFuture;
        if (drained != null) {
            drained.complete(null);
        }
    }

    /**
     * Immediate stop: closes listeners and connections (in-flight calls see cancellation and
     * their answers are dropped) and releases the server's own threads. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
        }
        for (Listener listener : listeners) {
            listener.close();
        }
        for (ServerConnection connection : connections) {
            connection.close();
        }
        callExecutor.shutdown();
        // Each waits for the I/O thread to have released its fd (not on that thread itself: a handler may close).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
        for (Listener listener : listeners) {
            listener.awaitClosed(remainingMillis(deadline));
        }
        for (ServerConnection connection : connections) {
            connection.awaitClosed(remainingMillis(deadline));
        }
        terminated.complete(null);
        log.debug("server closed");
    }

    /** Completes once the server is closed (by {@link #close()} or at the end of a shutdown). */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    /** Calls started and not yet answered, over all connections. */
    public int activeCalls() {
        return activeCalls.get();
    }

    /** Open accepted connections. */
    public int connectionCount() {
        return connections.size();
    }

    private void addListener(Listener listener) {
        listeners.add(listener);
        listener.start(this::accept);
        if (state != State.RUNNING) {
            listener.close(); // lost a race with shutdown/close
        }
    }

    private static long remainingMillis(long deadlineNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    private void checkRunning() {
        if (state != State.RUNNING) {
            throw new IllegalStateException("server is " + state.name().toLowerCase());
        }
    }

    /** Collects the method registry and options. Not thread-safe; build once. */
    public static final class Builder {
        private final Map<String, Map<String, UnaryHandler>> services = new HashMap<>();
        private final Set<String> onEventLoop = new HashSet<>();
        private boolean requireSameUser = true;
        private Predicate<PeerCredentials> peerPolicy;

        private Builder() {
        }

        /** Registers a raw-bytes unary method, run on a virtual thread. Registering the same method twice is an error. */
        public Builder register(String service, String method, UnaryHandler handler) {
            return register(service, method, Execution.VIRTUAL_THREAD, handler);
        }

        /** Registers a raw-bytes unary method, run where {@code execution} says. */
        public Builder register(String service, String method, Execution execution, UnaryHandler handler) {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(execution, "execution");
            Objects.requireNonNull(handler, "handler");
            UnaryHandler previous = services.computeIfAbsent(service, s -> new HashMap<>()).putIfAbsent(method, handler);
            if (previous != null) {
                throw new IllegalArgumentException("/" + service + "/" + method + " is already registered");
            }
            if (execution == Execution.EVENT_LOOP) {
                onEventLoop.add(service + "/" + method);
            }
            return this;
        }

        /**
         * Registers a typed unary method, run on a virtual thread. A payload that does not parse is answered with
         * INTERNAL "ttrpc: error unmarshalling payload: ...", as Go's generated code does.
         */
        public <Req extends ProtoMessage, Resp extends ProtoMessage> Builder register(String service, String method,
                ProtoParser<Req> parser, TypedHandler<Req, Resp> handler) {
            return register(service, method, Execution.VIRTUAL_THREAD, parser, handler);
        }

        /** Registers a typed unary method, run where {@code execution} says. */
        public <Req extends ProtoMessage, Resp extends ProtoMessage> Builder register(String service, String method,
                Execution execution, ProtoParser<Req> parser, TypedHandler<Req, Resp> handler) {
            Objects.requireNonNull(parser, "parser");
            Objects.requireNonNull(handler, "handler");
            return register(service, method, execution, (ctx, payload) -> {
                Req request;
                try {
                    request = parser.parseFrom(payload);
                } catch (InvalidProtoException e) {
                    throw new TtrpcException(Code.INTERNAL, "ttrpc: error unmarshalling payload: " + e.getMessage());
                }
                Resp response = handler.handle(ctx, request);
                return response == null ? null : response.toByteString();
            });
        }

        /** Reject peers whose uid differs from our euid (default true). Ignored if {@link #peerPolicy} is set. */
        public Builder requireSameUser(boolean require) {
            this.requireSameUser = require;
            return this;
        }

        /** Replaces the same-user check: only connections whose credentials pass are served. */
        public Builder peerPolicy(Predicate<PeerCredentials> policy) {
            this.peerPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The registry as it stands, frozen. */
        Dispatcher dispatcher() {
            Map<String, Map<String, UnaryHandler>> frozen = new HashMap<>();
            services.forEach((service, methods) -> frozen.put(service, Map.copyOf(methods)));
            return new Dispatcher(Map.copyOf(frozen), Set.copyOf(onEventLoop));
        }

        public TtrpcServer build() {
            return new TtrpcServer(this);
        }
    }
}
