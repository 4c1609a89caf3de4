package io.jshim.test.grpc;

import io.jshim.proto.wkt.Empty;
import io.jshim.proto.wire.ProtoMessage;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.jshim.cgroups.OomWatcher;
import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventHub;
import io.jshim.events.EventQueue;
import io.jshim.events.TtrpcEventTransport;
import io.jshim.proto.eventsvc.Envelope;
import io.jshim.proto.eventsvc.ForwardRequest;
import io.jshim.reaper.Reaper;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.shim.grpc.GrpcShimServer;
import io.jshim.shim.grpc.GrpcTaskFace;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.Code;
import io.jshim.shim.grpc.EventLoops;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import io.jshim.ttrpc.TtrpcServer;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One in-process shim with both faces on one TaskService: ttrpc on {@code ttrpc.sock}, gRPC (Task v2/v3 and the
 * event stream) on {@code grpc.sock}; its events go through the real forwarder over ttrpc to a stand-in for
 * containerd's Events/Forward, which records what it receives and when.
 */
final class GrpcRig implements AutoCloseable {
    static final String NAMESPACE = "jshim-grpc-test";
    static final String FORWARD_SERVICE = "containerd.services.events.ttrpc.v1.Events";

    record Received(Envelope envelope, Instant at) {}

    final Path dir;
    final EventQueue queue = new EventQueue(NAMESPACE);
    final EventHub hub = EventHub.attachTo(queue);
    final TaskService tasks;
    /** What containerd's Forward got, in arrival order. Guarded by itself. */
    final List<Received> forwarded = new ArrayList<>();
    private final TtrpcServer receiver;
    private final ContainerdForwarder forwarder;
    private final TtrpcServer ttrpc;
    final GrpcShimServer grpc;
    final Path grpcSocket;
    private final TtrpcClient ttrpcClient;

    GrpcRig(Path dir) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir.resolve("sockets"));
        receiver = TtrpcServer.builder()
                .register(FORWARD_SERVICE, "Forward", ForwardRequest.parser(), (ctx, r) -> {
                    synchronized (forwarded) {
                        forwarded.add(new Received(r.getEnvelope(), Instant.now()));
                        forwarded.notifyAll();
                    }
                    return Empty.getDefaultInstance();
                }).build().bind(dir.resolve("containerd.sock.ttrpc"));
        forwarder = new ContainerdForwarder(queue,
                new TtrpcEventTransport(dir.resolve("containerd.sock.ttrpc"))).start();
        tasks = new TaskService(NAMESPACE, Reaper.get(), queue::publish, new OomWatcher(), dir.resolve("sockets"),
                () -> { });
        ttrpc = TtrpcTaskFace.register(TtrpcServer.builder(), tasks).build()
                .bind(dir.resolve("ttrpc.sock"));
        grpc = new GrpcShimServer(tasks, hub, TtrpcServer.sameUserAs(TtrpcServer.effectiveUid()));
        grpcSocket = dir.resolve("grpc.sock");
        grpc.bind(grpcSocket);
        ttrpcClient = TtrpcClient.connect(dir.resolve("ttrpc.sock"), Duration.ofSeconds(5));
    }

    /** Clients' own I/O thread: a subscriber's decoding must not run on the shim's (the forwarder's) loop. */
    private static final io.netty.channel.EventLoopGroup CLIENTS = EventLoops.newGroup("test-grpc-client");

    static ManagedChannel channel(Path socket) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(CLIENTS)
                .usePlaintext()
                .build();
    }

    /** The outcome of one call, comparable across faces: the response, or the status code and message. */
    record Outcome(ProtoMessage response, Code code, String message) {
        static Outcome ok(ProtoMessage m) {
            return new Outcome(m, Code.OK, "");
        }
    }

    /** A Task client over one face. */
    interface Face extends AutoCloseable {
        Outcome call(String method, ProtoMessage request, ProtoMessage responsePrototype);

        @Override
        default void close() {}
    }

    Face ttrpcFace() {
        return (method, request, proto) -> {
            try {
                return Outcome.ok(ttrpcClient.call("containerd.task.v2.Task", method, request,
                        proto.getParserForType(), Duration.ofSeconds(60),
                        Map.of("containerd-namespace-ttrpc", NAMESPACE)));
            } catch (TtrpcException e) {
                return new Outcome(null, e.code(), e.getMessage());
            }
        };
    }

    /** gRPC under {@code service}; with {@code namespace} null no containerd-namespace header is sent. */
    Face grpcFace(String service, String namespace) {
        ManagedChannel channel = channel(grpcSocket);
        Metadata headers = new Metadata();
        if (namespace != null) {
            headers.put(GrpcTaskFace.NAMESPACE_HEADER, namespace);
        }
        io.grpc.Channel ch = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        return new Face() {
            @Override
            public Outcome call(String method, ProtoMessage request, ProtoMessage proto) {
                try {
                    return Outcome.ok(ClientCalls.blockingUnaryCall(ch,
                            GrpcTaskFace.descriptor(service, method, request, proto),
                            CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), request));
                } catch (StatusRuntimeException e) {
                    return new Outcome(null, Code.of(e.getStatus().getCode().value()), e.getStatus().getDescription());
                }
            }

            @Override
            public void close() {
                channel.shutdownNow();
            }
        };
    }

    List<Received> forwarded() {
        synchronized (forwarded) {
            return new ArrayList<>(forwarded);
        }
    }

    /** Waits until containerd's stand-in has every event published so far. */
    List<Received> awaitForwarded(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long want = queue.lastSequence();
        synchronized (forwarded) {
            while (forwarded.size() < want) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("forwarded " + forwarded.size() + " of " + want + " events");
                }
                forwarded.wait(Math.max(1, left / 1_000_000));
            }
            return new ArrayList<>(forwarded);
        }
    }

    @Override
    public void close() throws Exception {
        ttrpcClient.close();
        grpc.shutdown(Duration.ofSeconds(1)).get();
        ttrpc.close();
        forwarder.drainAndStop(Duration.ofSeconds(2));
        receiver.close();
        tasks.close();
    }
}
