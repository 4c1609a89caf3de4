package io.jshim.shim.grpc;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventHub;
import io.jshim.events.EventQueue;
import io.jshim.shim.face.TaskServer;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.PeerCredentials;
import io.jshim.ttrpc.TtrpcServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The shim's gRPC server on its unix socket: the Task API ({@code containerd.task.v2.Task} and
 * {@code containerd.task.v3.Task}) and, with a hub, the event stream {@code jshim.events.v1.Events}. Netty epoll
 * on an event loop of its own (subscriber traffic never delays the ttrpc client that forwards events to
 * containerd), calls on virtual threads (Wait blocks), same-user check on every connection, socket 0600.
 */
public final class GrpcShimServer implements TaskServer {
    private final List<ServerServiceDefinition> services = new ArrayList<>();
    private final EventHub hub;
    private final Predicate<PeerCredentials> peerPolicy;
    private final EventLoopGroup group = EventLoops.newGroup("jshim-grpc-io");
    private final ExecutorService calls =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("grpc-call-", 0).factory());
    private volatile Server server;

    public GrpcShimServer(TaskService tasks, EventHub hub, Predicate<PeerCredentials> peerPolicy) {
        this(tasks, hub, peerPolicy, null, null);
    }

    /** With {@code jshim.metrics.v1.Metrics/Get} too when {@code queue} is given (a daemon's server). */
    public GrpcShimServer(TaskService tasks, EventHub hub, Predicate<PeerCredentials> peerPolicy, EventQueue queue,
            ContainerdForwarder forwarder) {
        if (tasks != null) {
            services.addAll(GrpcTaskFace.services(tasks));
            if (queue != null) {
                services.add(GrpcMetricsService.definition(tasks, queue, forwarder, hub));
            }
        }
        if (hub != null) {
            services.add(new GrpcEventService(hub).definition());
        }
        this.hub = hub;
        this.peerPolicy = peerPolicy;
    }

    /** The daemon's server: Task API, the event stream of {@code queue} and the metrics, same-user peers only. */
    public static TaskServer forDaemon(TaskService tasks, EventQueue queue, ContainerdForwarder forwarder) {
        return new GrpcShimServer(tasks, EventHub.attachTo(queue), TtrpcServer.sameUserAs(TtrpcServer.effectiveUid()),
                queue, forwarder);
    }

    /** Only the event stream of {@code queue} (for a shim whose Task API is on ttrpc), same-user peers only. */
    public static TaskServer eventsOnly(EventQueue queue) {
        return new GrpcShimServer(null, EventHub.attachTo(queue), TtrpcServer.sameUserAs(TtrpcServer.effectiveUid()));
    }

    @Override
    public void bind(Path socket) throws IOException {
        start(socket, () -> DomainServerChannel.binding(peerPolicy));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }

    @Override
    public void adopt(int fd, Path socket) throws IOException {
        start(socket == null ? Path.of("/proc/self/fd/" + fd) : socket, () -> DomainServerChannel.adopting(fd, peerPolicy));
    }

    private void start(Path socket, Supplier<ServerChannel> channel) throws IOException {
        QuietBootstrap.apply();
        NettyServerBuilder b = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelFactory(channel::get)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .executor(calls);
        services.forEach(b::addService);
        server = b.build().start();
    }

    @Override
    public CompletableFuture<Void> shutdown(Duration grace) {
        if (hub != null) {
            hub.close(); // subscribers get what is left, then the end of their stream
        }
        Server s = server;
        return CompletableFuture.runAsync(() -> {
            try {
                if (s != null) {
                    s.shutdown();
                    if (!s.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                        s.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                calls.shutdown();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
        }, Thread.ofVirtual()::start);
    }

    public EventHub hub() {
        return hub;
    }
}
