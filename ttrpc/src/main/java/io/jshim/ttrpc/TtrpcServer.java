package io.jshim.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * Each request runs on its own virtual thread; answers go out as they complete. Every accepted
 * connection is checked against the peer policy (by default: same uid as this process) before
 * anything is read from it.
 */
public final class TtrpcServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcServer.class);
    private static final long CLOSE_WAIT_SECONDS = 5;

    private enum State { RUNNING, DRAINING, CLOSED }

    private final Dispatcher dispatcher;
    private final Predicate<PeerCredentials> peerPolicy;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final ExecutorService callExecutor;
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
    /** Listening channels; thread-safe list. */
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    /** Accepted, open connections; concurrent set. */
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
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
        this.ownsGroup = b.group == null;
        this.group = ownsGroup ? EventLoops.newGroup("ttrpc-server-io") : b.group;
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
     * (0600). The path must not exist. Not callable from the event loop.
     */
    public TtrpcServer bind(Path socketPath) throws IOException {
        checkRunning();
        ChannelFuture bound = bootstrap()
                .channel(EpollServerDomainSocketChannel.class)
                .bind(new DomainSocketAddress(socketPath.toString()));
        Channel listener = await(bound, "bind " + socketPath);
        try {
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        addListener(listener);
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
        Fcntl.setNonBlocking(listeningFd);
        // The (fd, true) constructor: the plain (fd) one marks the channel inactive, so it would
        // never start accepting.
        EpollServerDomainSocketChannel adopted = new EpollServerDomainSocketChannel(listeningFd, true);
        Channel listener = await(bootstrap().channelFactory(() -> adopted).register(), "adopt fd " + listeningFd);
        addListener(listener);
        log.debug("serving adopted fd {}", listeningFd);
        return this;
    }

    private ServerBootstrap bootstrap() {
        return new ServerBootstrap().group(group).childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
            @Override
            protected void initChannel(EpollDomainSocketChannel ch) {
                accept(ch);
            }
        });
    }

    /** Runs on the event loop when a connection is registered, before its first read. */
    private void accept(EpollDomainSocketChannel ch) {
        PeerCredentials peer;
        try {
            peer = PeerCredentials.of(ch.peerCredentials());
        } catch (IOException e) {
            log.warn("closing a connection whose peer credentials cannot be read", e);
            ch.close();
            return;
        }
        if (!peerPolicy.test(peer)) {
            log.warn("closing connection from pid {} uid {}: peer not allowed (server euid {})",
                    peer.pid(), peer.uid(), ProcessIdentity.effectiveUid());
            ch.close();
            return;
        }
        if (state != State.RUNNING) {
            ch.close();
            return;
        }
        log.debug("connection from pid {} uid {}", peer.pid(), peer.uid());
        connections.add(ch);
        ch.closeFuture().addListener(f -> {
            connections.remove(ch);
            completeDrainIfIdle();
        });
        ch.pipeline().addLast(new FrameDecoder(bodyBudget), FrameEncoder.INSTANCE,
                new ServerConnection(dispatcher, callExecutor, peer, activeCalls));
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
        listeners.forEach(Channel::close);
        for (Channel ch : connections) {
            ServerConnection conn = ch.pipeline().get(ServerConnection.class);
            if (conn != null) {
                ch.eventLoop().execute(conn::drain);
            }
        }
        var force = group.next().schedule(this::close, grace.toNanos(), TimeUnit.NANOSECONDS);
        CompletableFuture<Void> drained = new CompletableFuture<>();
        drainedFuture = drained;
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
        List<ChannelFuture> closing = new ArrayList<>();
        listeners.forEach(ch -> closing.add(ch.close()));
        connections.forEach(ch -> closing.add(ch.close()));
        callExecutor.shutdown();
        boolean onEventLoop = EventLoops.inEventLoop(group);
        if (!onEventLoop) {
            closing.forEach(f -> f.awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS));
        }
        if (ownsGroup) {
            var done = group.shutdownGracefully(0, CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            if (!onEventLoop) {
                done.awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            }
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

    private void addListener(Channel listener) {
        listeners.add(listener);
        if (state != State.RUNNING) {
            listener.close(); // lost a race with shutdown/close
        }
    }

    private void checkRunning() {
        if (state != State.RUNNING) {
            throw new IllegalStateException("server is " + state.name().toLowerCase());
        }
    }

    private static Channel await(ChannelFuture future, String what) throws IOException {
        future.awaitUninterruptibly();
        if (future.isSuccess()) {
            return future.channel();
        }
        Throwable cause = future.cause();
        if (cause instanceof IOException io) {
            throw new IOException(what + ": " + io.getMessage(), io);
        }
        throw new IOException(what + " failed", cause);
    }

    /** Collects the method registry and options. Not thread-safe; build once. */
    public static final class Builder {
        private final Map<String, Map<String, UnaryHandler>> services = new HashMap<>();
        private final Set<String> onEventLoop = new HashSet<>();
        private boolean requireSameUser = true;
        private Predicate<PeerCredentials> peerPolicy;
        private EventLoopGroup group;

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
        public <Req extends Message, Resp extends Message> Builder register(String service, String method,
                Parser<Req> parser, TypedHandler<Req, Resp> handler) {
            return register(service, method, Execution.VIRTUAL_THREAD, parser, handler);
        }

        /** Registers a typed unary method, run where {@code execution} says. */
        public <Req extends Message, Resp extends Message> Builder register(String service, String method,
                Execution execution, Parser<Req> parser, TypedHandler<Req, Resp> handler) {
            Objects.requireNonNull(parser, "parser");
            Objects.requireNonNull(handler, "handler");
            return register(service, method, execution, (ctx, payload) -> {
                Req request;
                try {
                    request = parser.parseFrom(payload);
                } catch (InvalidProtocolBufferException e) {
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

        /**
         * The event loop group to run on (e.g. {@link EventLoops#shared()}); the server does not
         * shut it down. Without one the server creates and owns a one-thread group.
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = Objects.requireNonNull(group, "group");
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
