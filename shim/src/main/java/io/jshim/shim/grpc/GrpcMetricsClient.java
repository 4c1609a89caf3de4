package io.jshim.shim.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Asks a daemon serving gRPC for its metrics ({@code jshim.metrics.v1.Metrics/Get}, see {@link GrpcMetricsService})
 * over its unix socket: the node exporter's way to a {@code JSHIM_PROTOCOL=grpc} daemon. One channel per call, shut
 * down after it (a scrape is seconds apart, and a daemon may be gone by the next); its I/O on the process's shared
 * event loop, as the exporter's ttrpc calls. Only the exporter uses this class, so a ttrpc daemon never loads it.
 */
public final class GrpcMetricsClient {
    private static final io.grpc.MethodDescriptor<GetRequest, GetResponse> GET = GrpcTaskFace.descriptor(
            GrpcMetricsService.SERVICE, "Get", GetRequest.getDefaultInstance(), GetResponse.getDefaultInstance());

    /** The call failed: {@code getMessage()} says how (the gRPC status code and its description). */
    public static final class Failure extends Exception {
        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static {
        QuietBootstrap.apply(); // no warning per scrape for grpc's SO_KEEPALIVE on a unix socket
    }

    private GrpcMetricsClient() {}

    /** The daemon's exposition text, within {@code timeout} (connecting included). */
    public static String get(Path socket, Duration timeout) throws Failure {
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(EventLoops.shared())
                .usePlaintext()
                .build();
        try {
            return ClientCalls.blockingUnaryCall(channel, GET,
                    CallOptions.DEFAULT.withDeadlineAfter(Math.max(1, timeout.toNanos()), TimeUnit.NANOSECONDS),
                    GetRequest.getDefaultInstance()).getText();
        } catch (StatusRuntimeException e) {
            String description = e.getStatus().getDescription();
            throw new Failure("gRPC " + e.getStatus().getCode() + (description == null ? "" : ": " + description)
                    + " (" + socket + ")", e);
        } finally {
            channel.shutdownNow();
        }
    }
}
