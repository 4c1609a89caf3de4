package io.jshim.shim.grpc;

import io.jshim.proto.wire.Bytes;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventHub;
import io.jshim.events.EventQueue;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.TtrpcException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code jshim.metrics.v1.Metrics/Get} on the gRPC socket, as on ttrpc: the same bytes from the same code
 * ({@code io.jshim.shim.metrics.MetricsRpc}), for the same peers (the server admits same-user peers only). Raw bytes
 * on the wire here, so that the metrics classes and messages load on the first Get, not when the server is built.
 */
final class GrpcMetricsService {
    static final String SERVICE = "jshim.metrics.v1.Metrics";

    private GrpcMetricsService() {}

    static ServerServiceDefinition definition(TaskService tasks, EventQueue queue, ContainerdForwarder forwarder,
            EventHub hub) {
        MethodDescriptor<byte[], byte[]> get = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Get"))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(get, ServerCalls.asyncUnaryCall((request, response) -> {
                    Bytes text;
                    try {
                        text = io.jshim.shim.metrics.MetricsRpc.get(new io.jshim.shim.metrics.DaemonMetrics(
                                queue.namespace(), queue, forwarder, tasks::containers, () -> hub),
                                Bytes.copyFrom(request));
                    } catch (TtrpcException e) {
                        response.onError(Status.fromCodeValue(e.code().value()).withDescription(e.getMessage())
                                .asRuntimeException());
                        return;
                    }
                    response.onNext(text.toByteArray());
                    response.onCompleted();
                }))
                .build();
    }

    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
}
