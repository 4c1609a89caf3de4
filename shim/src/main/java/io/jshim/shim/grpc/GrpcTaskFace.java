package io.jshim.shim.grpc;

import io.jshim.proto.wire.ProtoMessage;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.jshim.shim.ShimException;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.shim.face.TaskMethod;
import io.jshim.shim.face.TaskMethods;
import io.jshim.shim.task.TaskService;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Task API over gRPC: the methods of {@link TaskMethods} under {@code containerd.task.v2.Task} and
 * {@code containerd.task.v3.Task}, with hand-built method descriptors and protobuf marshallers (no generated
 * stubs). Results and status codes are those of the ttrpc face: a {@link ShimException}'s code and message, and
 * UNKNOWN with the message for any other failure. The namespace is the {@code containerd-namespace} header.
 */
public final class GrpcTaskFace {
    private static final Logger log = LoggerFactory.getLogger(GrpcTaskFace.class);
    public static final Metadata.Key<String> NAMESPACE_HEADER =
            Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> NAMESPACE = Context.key("containerd-namespace");

    private GrpcTaskFace() {}

    public static List<ServerServiceDefinition> services(TaskService tasks) {
        List<TaskMethod<?, ?>> methods = TaskMethods.of(tasks);
        List<ServerServiceDefinition> out = new ArrayList<>();
        for (String service : TaskMethods.SERVICES) {
            ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service);
            for (TaskMethod<?, ?> m : methods) {
                add(b, service, m);
            }
            out.add(ServerInterceptors.intercept(b.build(), namespaceFromHeader()));
        }
        return out;
    }

    /** The descriptor of one Task method under {@code service}, for servers and clients alike. */
    public static <Req extends ProtoMessage, Resp extends ProtoMessage> MethodDescriptor<Req, Resp> descriptor(String service,
            String method, Req requestPrototype, Resp responsePrototype) {
        return MethodDescriptor.<Req, Resp>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
                .setRequestMarshaller(ProtoMarshaller.of(requestPrototype))
                .setResponseMarshaller(ProtoMarshaller.of(responsePrototype))
                .build();
    }

    private static <Req extends ProtoMessage, Resp extends ProtoMessage> void add(ServerServiceDefinition.Builder b,
            String service, TaskMethod<Req, Resp> m) {
        int index = TtrpcTaskFace.CALLS.names().indexOf(m.name());
        b.addMethod(descriptor(service, m.name(), m.requestPrototype(), m.responsePrototype()),
                ServerCalls.asyncUnaryCall((request, response) -> {
                    long start = System.nanoTime();
                    Status status = Status.OK;
                    Resp result = null;
                    try {
                        result = m.invoke(NAMESPACE.get(), request);
                    } catch (ShimException e) {
                        status = Status.fromCodeValue(e.code().value()).withDescription(e.getMessage());
                    } catch (RuntimeException | Error e) {
                        // As over ttrpc: a handler bug costs one call, answered UNKNOWN with its message.
                        log.warn("handler /{}/{} failed", service, m.name(), e);
                        status = Status.UNKNOWN.withDescription(
                                e.getMessage() != null ? e.getMessage() : e.getClass().getName());
                    }
                    // counted with the ttrpc face's calls: the metrics' Task API series cover both faces
                    TtrpcTaskFace.CALLS.record(index, status.getCode().value(), System.nanoTime() - start);
                    if (!status.isOk()) {
                        response.onError(status.asRuntimeException());
                        return;
                    }
                    response.onNext(result);
                    response.onCompleted();
                }));
    }

    private static ServerInterceptor namespaceFromHeader() {
        return new ServerInterceptor() {
            @Override
            public <ReqT, RespT> io.grpc.ServerCall.Listener<ReqT> interceptCall(io.grpc.ServerCall<ReqT, RespT> call,
                    Metadata headers, io.grpc.ServerCallHandler<ReqT, RespT> next) {
                return Contexts.interceptCall(Context.current().withValue(NAMESPACE, headers.get(NAMESPACE_HEADER)),
                        call, headers, next);
            }
        };
    }
}
