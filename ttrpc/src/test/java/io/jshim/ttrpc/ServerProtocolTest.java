package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.ttrpc.Request;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The server's wire behaviour, driven frame by frame from a plain socket. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ServerProtocolTest {
    static final String SVC = "test.Echo";

    @TempDir
    Path dir;
    Path socket;
    TtrpcServer server;
    final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        socket = dir.resolve("ttrpc.sock");
        server = newServer().bind(socket);
    }

    private TtrpcServer newServer() {
        return TtrpcServer.builder()
                .register(SVC, "Echo", (ctx, p) -> {
                    calls.incrementAndGet();
                    return p;
                })
                // Answers with the payload length only, so a 4 MiB request does not need a 4 MiB answer.
                .register(SVC, "Size", (ctx, p) -> Bytes.copyFrom(ByteBuffer.allocate(4).putInt(p.size()).flip()))
                .build();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static Bytes utf8(String s) {
        return Bytes.copyFromUtf8(s);
    }

    @Test
    void okAnswerOnTheWireIsEmptyStatusThenPayload() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.sendRequest(1, SVC, "Echo", utf8("abc"));
            RawConnection.Reply r = c.readReply();
            assertEquals(1, r.streamId());
            assertEquals(Code.OK, r.code());
            assertEquals(utf8("abc"), r.response().getPayload());
            byte[] raw = r.raw().toByteArray();
            assertEquals("0a 00 12 03", String.format("%02x %02x %02x %02x", raw[0], raw[1], raw[2], raw[3]));
        }
    }

    @Test
    void frameOfExactlyFourMebibytesIsServed() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            byte[] body = requestOfSize(Frame.MAX_DATA_LENGTH);
            c.send(1, Frame.TYPE_REQUEST, 0, body);
            RawConnection.Reply r = c.readReply();
            assertEquals(Code.OK, r.code(), r.message());
            int payloadSize = Request.parseFrom(body).getPayload().size();
            assertEquals(payloadSize, r.response().getPayload().asReadOnlyByteBuffer().getInt());
        }
    }

    @Test
    void oversizedFrameIsAnsweredOnItsStreamAndTheNextFrameIsServed() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            byte[] body = requestOfSize(Frame.MAX_DATA_LENGTH + 1);
            c.send(1, Frame.TYPE_REQUEST, 0, body);
            c.sendRequest(3, SVC, "Echo", utf8("after"));
            RawConnection.Reply first = c.readReply();
            assertEquals(1, first.streamId());
            assertEquals(Code.RESOURCE_EXHAUSTED, first.code());
            assertEquals("message length 4194305 exceed maximum message size of 4194304", first.message());
            RawConnection.Reply second = c.readReply();
            assertEquals(3, second.streamId());
            assertEquals(Code.OK, second.code());
            assertEquals(utf8("after"), second.response().getPayload());
        }
    }

    /** A serialized Request of exactly {@code size} bytes (payload padded to fit). */
    private static byte[] requestOfSize(int size) {
        int payload = size - 64;
        while (true) {
            byte[] b = RawConnection.request(SVC, "Size", Bytes.copyFrom(new byte[payload]));
            if (b.length == size) {
                return b;
            }
            payload += size - b.length;
        }
    }

    @Test
    void zeroLengthRequestIsAnEmptyRequest() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.send(1, Frame.TYPE_REQUEST, 0, new byte[0]);
            RawConnection.Reply r = c.readReply();
            assertEquals(Code.UNIMPLEMENTED, r.code());
            assertEquals("service ", r.message());
        }
    }

    @Test
    void unknownTypeIsIgnored() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.send(1, 0x7f, 0, RawConnection.request(SVC, "Echo", utf8("x")));
            c.send(3, 0x00, 0, new byte[0]);
            c.sendRequest(5, SVC, "Echo", utf8("y"));
            RawConnection.Reply r = c.readReply();
            assertEquals(5, r.streamId(), "no answer for the frames of unknown type");
            assertEquals(1, calls.get());
        }
    }

    @Test
    void evenStreamIdIsRejectedAndTheConnectionContinues() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.sendRequest(2, SVC, "Echo", utf8("x"));
            RawConnection.Reply r = c.readReply();
            assertEquals(2, r.streamId());
            assertEquals(Code.INVALID_ARGUMENT, r.code());
            assertEquals("StreamID must be odd for client initiated streams", r.message());
            c.sendRequest(1, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, c.readReply().code(), "an even id does not advance the last id");
        }
    }

    @Test
    void reusedOrDecreasingStreamIdIsRejected() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.sendRequest(5, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, c.readReply().code());
            for (int id : new int[] {5, 3}) {
                c.sendRequest(id, SVC, "Echo", utf8("x"));
                RawConnection.Reply r = c.readReply();
                assertEquals(id, r.streamId());
                assertEquals(Code.INVALID_ARGUMENT, r.code());
                assertEquals("StreamID cannot be re-used and must increment", r.message());
            }
            c.sendRequest(7, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, c.readReply().code());
            assertEquals(2, calls.get());
        }
    }

    @Test
    void idsAboveTwoToThe31StillIncrement() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.sendRequest(0x7fff_ffff, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, c.readReply().code());
            c.sendRequest(0x8000_0001, SVC, "Echo", utf8("x"));
            RawConnection.Reply r = c.readReply();
            assertEquals(0x8000_0001, r.streamId());
            assertEquals(Code.OK, r.code(), "ids compare as unsigned");
        }
    }

    @Test
    void dataFrameForAnUnknownStreamIsRejected() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.send(7, Frame.TYPE_DATA, 0, new byte[] {1});
            c.send(9, Frame.TYPE_DATA, Frame.FLAG_REMOTE_CLOSED | Frame.FLAG_NO_DATA, new byte[0]);
            for (int id : new int[] {7, 9}) {
                RawConnection.Reply r = c.readReply();
                assertEquals(id, r.streamId());
                assertEquals(Code.INVALID_ARGUMENT, r.code());
                assertEquals("StreamID is no longer active", r.message());
            }
            c.sendRequest(11, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, c.readReply().code());
        }
    }

    @Test
    void requestThatIsNotProtobufIsRejectedOnItsStreamOnly() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            c.send(1, Frame.TYPE_REQUEST, 0, new byte[] {(byte) 0xff, (byte) 0xff, 0x01});
            RawConnection.Reply r = c.readReply();
            assertEquals(1, r.streamId());
            assertEquals(Code.INVALID_ARGUMENT, r.code());
            assertTrue(r.message().startsWith("unmarshal request error: "), r.message());
            c.sendRequest(3, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, c.readReply().code());
        }
    }

    @Test
    void truncatedFrameAtEndOfInputClosesOnlyThatConnection() throws Exception {
        try (RawConnection good = new RawConnection(socket); RawConnection bad = new RawConnection(socket)) {
            good.sendRequest(1, SVC, "Echo", utf8("x"));
            assertEquals(Code.OK, good.readReply().code());

            bad.write(RawConnection.header(100, 1, Frame.TYPE_REQUEST, 0));
            bad.write(new byte[50]);
            bad.shutdownOutput();
            assertNull(bad.readFrame(), "the server closes the truncated connection without answering");
            awaitTrue(() -> server.connectionCount() == 1, "server dropped the bad connection");

            good.sendRequest(3, SVC, "Echo", utf8("still here"));
            RawConnection.Reply r = good.readReply();
            assertEquals(Code.OK, r.code());
            assertEquals(utf8("still here"), r.response().getPayload());
        }
    }

    @Test
    void boundSocketIsOwnerOnlyAndRemovedOnClose() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        server.close();
        assertFalse(Files.exists(socket));
    }

    @Test
    void adoptedListeningFdIsServedEvenIfItWasBlocking() throws IOException {
        Path other = dir.resolve("adopted.sock");
        int fd = UnixSocket.listen(other.toString(), 16);
        // A daemon may inherit a blocking fd; an accept that another holder of the socket beat to a connection
        // would then hang the accept thread.
        UnixSocket.setNonBlocking(fd, false);

        try (TtrpcServer adopted = newServer().adopt(fd)) {
            assertTrue(UnixSocket.isNonBlocking(fd), "adopt makes the fd non-blocking");
            for (int i = 0; i < 3; i++) {
                try (RawConnection c = new RawConnection(other)) {
                    c.sendRequest(1, SVC, "Echo", utf8("via fd " + i));
                    assertEquals(utf8("via fd " + i), c.readReply().response().getPayload());
                }
            }
            try (TtrpcClient client = TtrpcClient.connect(other, Duration.ofSeconds(5))) {
                var opts = CallOptions.withTimeout(Duration.ofSeconds(5));
                assertEquals(utf8("c"), client.call(SVC, "Echo", utf8("c"), opts).join());
            }
        }
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void manyFramesInOneWriteAreAllAnswered() throws IOException {
        try (RawConnection c = new RawConnection(socket)) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < 200; i++) {
                byte[] body = RawConnection.request(SVC, "Echo", utf8("n" + i));
                out.writeBytes(RawConnection.header(body.length, 2 * i + 1, Frame.TYPE_REQUEST, 0));
                out.writeBytes(body);
            }
            c.write(out.toByteArray());
            boolean[] seen = new boolean[200];
            for (int i = 0; i < 200; i++) {
                RawConnection.Reply r = c.readReply();
                int n = (r.streamId() - 1) / 2;
                assertEquals(utf8("n" + n), r.response().getPayload());
                assertFalse(seen[n]);
                seen[n] = true;
            }
            boolean[] all = new boolean[200];
            Arrays.fill(all, true);
            assertTrue(Arrays.equals(all, seen));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aPeerThatReadsNoAnswersIsClosedAndHoldsUpNoOtherConnection() throws Exception {
        byte[] payload = new byte[1 << 20];
        try (RawConnection stalled = new RawConnection(socket); RawConnection other = new RawConnection(socket)) {
            // 16 MiB of answers asked for and none read, far more than the socket holds. From a thread of its own:
            // once the server's answers wait, it reads no more requests, and this writer blocks until the close.
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 16; i++) {
                        stalled.sendRequest(2 * i + 1, SVC, "Echo", Bytes.copyFrom(payload));
                    }
                } catch (IOException closedByTheServer) {
                    // expected: broken pipe once the server gives the connection up
                }
            });
            awaitTrue(() -> server.connectionCount() == 2, "both connected");
            awaitTrue(() -> calls.get() > 0, "the stalled peer's first requests are served");
            long start = System.nanoTime();
            other.sendRequest(1, SVC, "Echo", utf8("still served"));
            assertEquals(utf8("still served"), other.readReply().response().getPayload());
            assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 5,
                    "answered while the other peer's answers wait");
            // given up after FrameSocket.SEND_TIMEOUT_MILLIS without progress (10 s)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (server.connectionCount() > 1 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(1, server.connectionCount(), "the peer that reads nothing is closed");
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) >= FrameSocket.SEND_TIMEOUT_MILLIS - 1000,
                    "not before the send timeout");
            other.sendRequest(3, SVC, "Echo", utf8("and after"));
            assertEquals(utf8("and after"), other.readReply().response().getPayload());
            writer.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(writer.isAlive(), "the stalled peer's writes ended with the connection");
            awaitTrue(() -> server.activeCalls() == 0, "no call left active");
        }
    }
}
