package io.jshim.test;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

/**
 * A sandbox record in containerd 2.x's metadata (its sandbox Store API, {@code containerd.services.sandbox.v1}),
 * and nothing else: no sandbox controller runs. A container created with {@code ctr run --sandbox <id>} after the
 * record exists is sent by containerd straight to the shim of the task named {@code <id>} when that shim answered
 * version 3 (containerd's core/runtime/v2 ShimManager.Start), as the CRI plugin's pods are; before the record
 * exists, containerd runs the shim's {@code start} as for any container.
 */
public final class SandboxRecords {
    private static final MethodDescriptor<byte[], byte[]> CREATE = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("containerd.services.sandbox.v1.Store/Create")
            .setRequestMarshaller(new Bytes()).setResponseMarshaller(new Bytes()).build();

    private SandboxRecords() {}

    /** Stores {@code Sandbox{sandbox_id, runtime{name}}} in the containerd's namespace. */
    public static void create(PrivateContainerd containerd, String id, String runtime) throws IOException {
        ByteArrayOutputStream rt = new ByteArrayOutputStream();
        CodedOutputStream r = CodedOutputStream.newInstance(rt);
        r.writeString(1, runtime);
        r.flush();
        ByteArrayOutputStream sb = new ByteArrayOutputStream();
        CodedOutputStream s = CodedOutputStream.newInstance(sb);
        s.writeString(1, id);
        s.writeBytes(2, ByteString.copyFrom(rt.toByteArray()));
        s.flush();
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        CodedOutputStream q = CodedOutputStream.newInstance(req);
        q.writeBytes(1, ByteString.copyFrom(sb.toByteArray())); // StoreCreateRequest.sandbox
        q.flush();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER), containerd.namespace());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(containerd.socket().toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(io.jshim.shim.grpc.EventLoops.shared()).usePlaintext().build();
        try {
            io.grpc.Channel withNamespace = io.grpc.ClientInterceptors.intercept(channel,
                    MetadataUtils.newAttachHeadersInterceptor(headers));
            ClientCalls.blockingUnaryCall(withNamespace, CREATE, CallOptions.DEFAULT.withDeadlineAfter(30,
                    TimeUnit.SECONDS), req.toByteArray());
        } finally {
            channel.shutdownNow();
        }
    }

    private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
