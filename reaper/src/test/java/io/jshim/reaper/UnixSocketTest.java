package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketTest {
    @TempDir
    Path dir;

    @Test
    void connectAcceptExchangeAndPeerCredentials() throws Exception {
        String path = dir.resolve("s.sock").toString();
        int listener = UnixSocket.listen(path, 8);
        int client = -1;
        int server = -1;
        try {
            assertTrue(Files.readString(Path.of("/proc/self/fdinfo/" + listener)).contains("flags:\t02"),
                    "close-on-exec");
            client = UnixSocket.connect(path, 5000);
            server = UnixSocket.accept(listener);
            assertTrue(server >= 0);

            UnixSocket.Credentials peer = UnixSocket.peerCredentials(server);
            assertEquals(ProcessHandle.current().pid(), peer.pid());
            assertEquals(Posix.geteuid(), peer.uid());
            assertEquals(Posix.getegid(), peer.gid());

            byte[] hello = "xxhello".getBytes(StandardCharsets.US_ASCII);
            UnixSocket.sendFully(client, hello, 2, 5);
            byte[] got = new byte[8];
            assertEquals(5, UnixSocket.recv(server, got, 1, 7));
            assertArrayEquals("\0hello\0\0".getBytes(StandardCharsets.US_ASCII), got);

            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocateFrom("native");
                assertEquals(6, UnixSocket.send(server, out, 0, 6));
                MemorySegment in = NativeMemory.uninitialized(arena, 16);
                assertEquals(6, UnixSocket.recv(client, in, 4, 12));
                assertEquals("native", new String(in.asSlice(4, 6).toArray(ValueLayout.JAVA_BYTE),
                        StandardCharsets.US_ASCII));
            }
            UnixSocket.close(client);
            client = -1;
            assertEquals(0, UnixSocket.recv(server, got, 0, 8), "end of input once the peer closed");
            int accepted = server;
            PosixException gone = assertThrows(PosixException.class, () -> UnixSocket.sendFully(accepted, hello, 0, 2));
            assertEquals("EPIPE", gone.errnoName(), "MSG_NOSIGNAL: EPIPE, no SIGPIPE");
        } finally {
            UnixSocket.close(client);
            UnixSocket.close(server);
            UnixSocket.close(listener);
        }
    }

    @Test
    void shutdownWakesABlockedRecvInAnotherThread() throws Exception {
        String path = dir.resolve("w.sock").toString();
        int listener = UnixSocket.listen(path, 1);
        int client = UnixSocket.connect(path, 5000);
        int server = UnixSocket.accept(listener);
        try {
            CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return UnixSocket.recv(server, new byte[4], 0, 4);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, r -> Thread.ofPlatform().start(r));
            Thread.sleep(100); // give it time to block; the assertion holds either way
            assertFalse(read.isDone(), "nothing was sent: recv waits");
            UnixSocket.shutdown(server, UnixSocket.SHUT_RDWR);
            assertEquals(0, read.get(10, TimeUnit.SECONDS));
            assertEquals(0, UnixSocket.recv(client, new byte[4], 0, 4), "the peer sees end of input");
        } finally {
            UnixSocket.close(client);
            UnixSocket.close(server);
            UnixSocket.close(listener);
        }
    }

    @Test
    void nonBlockingAcceptAndTimeouts() throws Exception {
        String path = dir.resolve("n.sock").toString();
        int listener = UnixSocket.listen(path, 1);
        try {
            assertFalse(UnixSocket.isNonBlocking(listener));
            UnixSocket.setNonBlocking(listener, true);
            assertTrue(UnixSocket.isNonBlocking(listener));
            assertEquals(-1, UnixSocket.accept(listener), "nobody waiting: EAGAIN is -1");
            assertFalse(UnixSocket.pollIn(listener, 0));
            int[] wake = Posix.pipe();
            try {
                Posix.write(wake[1], new byte[1], 0, 1);
                assertEquals(2, UnixSocket.pollIn(listener, wake[0], 5000), "only the pipe is readable");
            } finally {
                Posix.close(wake[0]);
                Posix.close(wake[1]);
            }
            int client = UnixSocket.connect(path, 5000);
            assertTrue(UnixSocket.pollIn(listener, 5000));
            int server = UnixSocket.accept(listener);
            try {
                assertFalse(UnixSocket.isNonBlocking(server), "accepted fds are blocking");
                UnixSocket.setReceiveTimeout(server, 50);
                assertEquals(-1, UnixSocket.recv(server, new byte[1], 0, 1), "receive timeout: -1");
                // A peer that does not read: a send timeout ends the blocked send with EAGAIN.
                UnixSocket.setSendTimeout(server, 100);
                byte[] big = new byte[8 << 20];
                PosixException full = assertThrows(PosixException.class,
                        () -> UnixSocket.sendFully(server, big, 0, big.length));
                assertEquals("EAGAIN", full.errnoName());
            } finally {
                UnixSocket.close(client);
                UnixSocket.close(server);
            }
        } finally {
            UnixSocket.close(listener);
        }
    }

    @Test
    void errorsNameTheCallAndErrno() throws Exception {
        String missing = dir.resolve("missing.sock").toString();
        PosixException refused = assertThrows(PosixException.class, () -> UnixSocket.connect(missing, 1000));
        assertEquals("ENOENT", refused.errnoName());
        assertTrue(refused.getMessage().contains(missing), refused.getMessage());

        String path = dir.resolve("taken.sock").toString();
        int listener = UnixSocket.listen(path, 1);
        try {
            PosixException taken = assertThrows(PosixException.class, () -> UnixSocket.listen(path, 1));
            assertEquals("EADDRINUSE", taken.errnoName());
        } finally {
            UnixSocket.close(listener);
        }
        assertEquals("ECONNREFUSED",
                assertThrows(PosixException.class, () -> UnixSocket.connect(path, 1000)).errnoName(),
                "a socket file nobody listens on");
        assertThrows(java.io.IOException.class, () -> UnixSocket.listen("/tmp/" + "x".repeat(120), 1));
    }
}
