package io.jshim.ttrpc;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Run in a child process (possibly as another uid) by {@link SameUserCheckTest}: connects to the
 * socket in args[0], sends one well-formed request for test.Echo/Echo and reports by exit code
 * what the server did. Uses only the JDK so that it runs from a lone class file.
 */
public final class OtherUserProbe {
    static final int CLOSED_WITHOUT_ANSWER = 10;
    static final int ANSWERED = 20;
    static final int CONNECT_FAILED = 30;
    static final int TIMED_OUT = 40;

    private OtherUserProbe() {
    }

    public static void main(String[] args) throws Exception {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(15_000);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(TIMED_OUT);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(args[0]));
        } catch (IOException e) {
            System.err.println("connect: " + e);
            System.exit(CONNECT_FAILED);
        }
        byte[] service = "test.Echo".getBytes(StandardCharsets.UTF_8);
        byte[] method = "Echo".getBytes(StandardCharsets.UTF_8);
        byte[] payload = "probe".getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(6 + service.length + method.length + payload.length)
                .put((byte) 0x0a).put((byte) service.length).put(service)
                .put((byte) 0x12).put((byte) method.length).put(method)
                .put((byte) 0x1a).put((byte) payload.length).put(payload)
                .flip();
        ByteBuffer frame = ByteBuffer.allocate(10 + body.remaining())
                .putInt(body.remaining()).putInt(1).put((byte) 1).put((byte) 0).put(body).flip();
        try {
            while (frame.hasRemaining()) {
                ch.write(frame);
            }
            ByteBuffer answer = ByteBuffer.allocate(1);
            int n = ch.read(answer);
            System.err.println("read returned " + n);
            System.exit(n > 0 ? ANSWERED : CLOSED_WITHOUT_ANSWER);
        } catch (IOException e) {
            // Broken pipe / connection reset: the server closed on us.
            System.err.println("io: " + e);
            System.exit(CLOSED_WITHOUT_ANSWER);
        }
    }
}
