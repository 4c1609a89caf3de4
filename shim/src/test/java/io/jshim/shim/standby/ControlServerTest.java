package io.jshim.shim.standby;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Posix;
import io.jshim.reaper.PosixException;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standby's control socket as the launcher's perl uses it: connect, one message, one answer line. */
class ControlServerTest {
    private static final String WHOLE = "jshim-handover 1\0fd=3\0namespace=ns\0id=c1\0address=/run/c.sock\0"
            + "publish-binary=/usr/bin/containerd\0socket=/run/containerd/s/abc\0bundle=/b/ns/c1\0debug=\0end\0";

    @TempDir
    Path dir;

    private final BlockingQueue<ControlServer.Request> requests = new LinkedBlockingQueue<>();

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void send(int fd, String s) throws IOException {
        byte[] b = bytes(s);
        UnixSocket.sendFully(fd, b, 0, b.length);
    }

    /**
     * Everything the server writes until it closes (bounded by a receive timeout). A close with our bytes still
     * unread in the server's socket is a reset (ECONNRESET) on Linux: the end too, as the launcher's sysread takes it.
     */
    private static String readToEnd(int fd) throws IOException {
        UnixSocket.setReceiveTimeout(fd, 10_000);
        StringBuilder text = new StringBuilder();
        byte[] buf = new byte[256];
        while (true) {
            int n;
            try {
                n = UnixSocket.recv(fd, buf, 0, buf.length);
            } catch (PosixException e) {
                if (!"ECONNRESET".equals(e.errnoName())) {
                    throw e;
                }
                return text.toString();
            }
            if (n == 0) {
                return text.toString();
            }
            if (n < 0) {
                throw new AssertionError("the server neither answered nor closed within 10 s: " + text);
            }
            text.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
        }
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static void awaitFds(long expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (openFds() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, openFds(), "open fds after close");
    }

    @Test
    void aMessageInPiecesIsQueuedWholeAndAnswered() throws Exception {
        Path socket = dir.resolve("standby/k.sock");
        long before = openFds();
        ControlServer server = ControlServer.bind(socket, requests);
        try {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
            int c = UnixSocket.connect(socket.toString(), 0);
            try {
                send(c, WHOLE.substring(0, 20));
                assertNull(requests.poll(200, TimeUnit.MILLISECONDS), "not whole yet");
                send(c, WHOLE.substring(20));
                ControlServer.Request r = requests.poll(10, TimeUnit.SECONDS);
                assertNotNull(r);
                assertEquals(Posix.getpid(), r.peerPid());
                assertArrayEquals(bytes(WHOLE), r.message());
                r.answer("refused malformed handover");
                assertEquals("refused malformed handover\n", readToEnd(c));
            } finally {
                UnixSocket.close(c);
            }
        } finally {
            server.close();
        }
        assertFalse(Files.exists(socket));
        awaitFds(before);
    }

    @Test
    void aStalledSenderIsDroppedAtItsBoundAndDelaysNoOther() throws Exception {
        Path socket = dir.resolve("standby/k.sock");
        long before = openFds();
        ControlServer server = ControlServer.bind(socket, requests);
        int stalled = UnixSocket.connect(socket.toString(), 0);
        int next = UnixSocket.connect(socket.toString(), 0);
        try {
            long t0 = System.nanoTime();
            send(stalled, "jshim-handover 1\0fd=3\0namesp");
            send(next, WHOLE);
            ControlServer.Request r = requests.poll(10, TimeUnit.SECONDS);
            assertNotNull(r);
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(ControlServer.MESSAGE_TIMEOUT_MS),
                    "the whole message was not held up by the stalled one");
            assertEquals("", readToEnd(stalled), "the stalled sender sees the end of the stream, no answer");
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(ControlServer.MESSAGE_TIMEOUT_MS),
                    "not before its bound");
            r.answer("adopted 1");
            assertEquals("adopted 1\n", readToEnd(next));
            assertTrue(requests.isEmpty());
        } finally {
            UnixSocket.close(stalled);
            UnixSocket.close(next);
            server.close();
        }
        awaitFds(before);
    }

    @Test
    void aMessageOverTheLimitIsDropped() throws Exception {
        Path socket = dir.resolve("standby/k.sock");
        ControlServer server = ControlServer.bind(socket, requests);
        int c = UnixSocket.connect(socket.toString(), 0);
        try {
            byte[] big = new byte[ControlServer.MAX_MESSAGE + 4096];
            java.util.Arrays.fill(big, (byte) 'x');
            try {
                UnixSocket.sendFully(c, big, 0, big.length);
            } catch (IOException closedUnderUs) {
                // EPIPE or ECONNRESET: the server closed once past the limit
            }
            assertEquals("", readToEnd(c), "closed, no answer");
            assertTrue(requests.isEmpty());
        } finally {
            UnixSocket.close(c);
            server.close();
        }
    }

    @Test
    void closeKeepsOnlyTheAdoptingStartsConnection() throws Exception {
        Path socket = dir.resolve("standby/k.sock");
        long before = openFds();
        ControlServer server = ControlServer.bind(socket, requests);
        int adopting = UnixSocket.connect(socket.toString(), 0);
        int racing = UnixSocket.connect(socket.toString(), 0);
        int slow = UnixSocket.connect(socket.toString(), 0);
        try {
            send(adopting, WHOLE);
            ControlServer.Request first = requests.poll(10, TimeUnit.SECONDS);
            send(racing, WHOLE);
            ControlServer.Request second = requests.poll(10, TimeUnit.SECONDS);
            assertNotNull(first);
            assertNotNull(second);
            send(slow, "jshim-handover 1\0");
            server.close(first);
            assertFalse(Files.exists(socket), "no start finds it any more");
            assertEquals("", readToEnd(racing), "the racing start's queued message is closed unanswered");
            assertEquals("", readToEnd(slow), "so is one still arriving");
            second.answer("refused adopted by another start"); // a no-op now
            first.answer("adopted 42");
            assertEquals("adopted 42\n", readToEnd(adopting));
        } finally {
            UnixSocket.close(adopting);
            UnixSocket.close(racing);
            UnixSocket.close(slow);
            server.close();
        }
        awaitFds(before);
    }
}
