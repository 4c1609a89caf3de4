package io.jshim.test;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.ttrpc.KeyValue;
import io.jshim.proto.ttrpc.Request;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * ttrpc bytes by hand, for peers that misbehave: any header (length, stream, type, flags) in front of any body,
 * written on a plain blocking unix socket with no client library to keep it honest.
 */
public final class RawTtrpc implements AutoCloseable {
    private final SocketChannel channel;

    private RawTtrpc(SocketChannel channel) {
        this.channel = channel;
    }

    public static RawTtrpc connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return new RawTtrpc(ch);
    }

    /** A frame header claiming {@code length} bytes of data. */
    public static byte[] header(long length, int streamId, int type, int flags) {
        return ByteBuffer.allocate(10).putInt((int) length).putInt(streamId).put((byte) type).put((byte) flags).array();
    }

    /** A complete frame: header and data. */
    public static byte[] frame(int streamId, int type, int flags, byte[] data) {
        return ByteBuffer.allocate(10 + data.length).put(header(data.length, streamId, type, flags)).put(data).array();
    }

    /** The body of a unary Request for {@code /service/method}, as containerd sends it. */
    public static byte[] request(String service, String method, ProtoMessage payload, String namespace) {
        return Request.newBuilder().setService(service).setMethod(method)
                .setPayload(payload == null ? Bytes.EMPTY : payload.toByteString())
                .addMetadata(KeyValue.newBuilder().setKey("containerd-namespace-ttrpc").setValue(namespace))
                .build().toByteArray();
    }

    public void write(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    public SocketChannel channel() {
        return channel;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
