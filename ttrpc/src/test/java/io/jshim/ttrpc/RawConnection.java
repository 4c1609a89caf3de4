package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.ttrpc.Request;
import io.jshim.proto.ttrpc.Response;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** A hand-driven ttrpc peer on a plain JDK unix socket, for sending frames no client would. */
final class RawConnection implements AutoCloseable {
    private final SocketChannel channel;

    RawConnection(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
    }

    static byte[] header(long length, int streamId, int type, int flags) {
        return ByteBuffer.allocate(Frame.HEADER_LENGTH)
                .putInt((int) length).putInt(streamId).put((byte) type).put((byte) flags).array();
    }

    static byte[] request(String service, String method, Bytes payload) {
        return Request.newBuilder().setService(service).setMethod(method).setPayload(payload).build().toByteArray();
    }

    void send(int streamId, int type, int flags, byte[] body) throws IOException {
        write(header(body.length, streamId, type, flags));
        write(body);
    }

    void sendRequest(int streamId, String service, String method, Bytes payload) throws IOException {
        send(streamId, Frame.TYPE_REQUEST, 0, request(service, method, payload));
    }

    void write(byte[] bytes) throws IOException {
        write(ByteBuffer.wrap(bytes));
    }

    void write(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The next frame, or null if the server closed the connection cleanly between frames. */
    Frame readFrame() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Frame.HEADER_LENGTH);
        if (!readFully(header, true)) {
            return null;
        }
        header.flip();
        long length = Integer.toUnsignedLong(header.getInt());
        int id = header.getInt();
        int type = header.get() & 0xff;
        int flags = header.get() & 0xff;
        if (length > Frame.MAX_DATA_LENGTH) {
            throw new IOException("server sent an oversized frame: " + length);
        }
        ByteBuffer body = ByteBuffer.allocate((int) length);
        readFully(body, false);
        return new Frame(id, type, flags, Bytes.copyFrom(body.flip()));
    }

    /** The next frame, which must be a Response; parsed. */
    Reply readReply() throws IOException {
        Frame frame = readFrame();
        if (frame == null) {
            throw new EOFException("connection closed while waiting for a response");
        }
        if (frame.type() != Frame.TYPE_RESPONSE) {
            throw new IOException("expected a response frame, got " + frame);
        }
        return new Reply(frame.streamId(), Response.parseFrom(frame.data()), frame.data());
    }

    /** True if the server closed the connection (read returns EOF or the connection was reset). */
    boolean isClosedByPeer() throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        try {
            return channel.read(one) < 0;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return true;
            }
            throw e;
        }
    }

    private boolean readFully(ByteBuffer buffer, boolean eofAllowedAtStart) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                if (eofAllowedAtStart && buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("connection closed inside a frame");
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    record Reply(int streamId, Response response, Bytes raw) {
        Code code() {
            return Code.of(response.getStatus().getCode());
        }

        String message() {
            return response.getStatus().getMessage();
        }
    }
}
