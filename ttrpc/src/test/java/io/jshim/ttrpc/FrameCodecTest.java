package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wire.Bytes;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    /** A decoder fed chunk by chunk, its frames queued for the test to take, as the reader thread feeds one. */
    private static final class Decoding {
        final FrameDecoder decoder = new FrameDecoder();
        final ArrayDeque<InboundFrame> frames = new ArrayDeque<>();

        Decoding(byte[] wire, int offset, int length) {
            write(wire, offset, length);
        }

        Decoding() {
        }

        void write(byte[] wire, int offset, int length) {
            write(ByteBuffer.wrap(wire, offset, length));
        }

        void write(byte[] wire) {
            write(wire, 0, wire.length);
        }

        void write(ByteBuffer chunk) {
            List<InboundFrame> out = new ArrayList<>();
            decoder.decode(chunk, out);
            assertFalse(chunk.hasRemaining(), "the decoder consumes every byte it is given");
            frames.addAll(out);
        }

        @SuppressWarnings("unchecked")
        <T extends InboundFrame> T read() {
            return (T) frames.poll();
        }
    }

    private static byte[] frameBytes(long length, int id, int type, int flags, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(RawConnection.header(length, id, type, flags));
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static byte[] body(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void headerAndBodySplitAcrossSingleByteReadsDecodeToOneFrame() throws Exception {
        Decoding ch = new Decoding();
        byte[] data = body(37, 1);
        byte[] wire = frameBytes(data.length, 7, Frame.TYPE_REQUEST, 0, data);
        for (int i = 0; i < wire.length - 1; i++) {
            ch.write(wire, i, 1);
            assertNull(ch.read(), "nothing may come out before byte " + (i + 1) + " of " + wire.length);
        }
        ch.write(wire, wire.length - 1, 1);
        Frame frame = ch.read();
        assertEquals(new Frame(7, Frame.TYPE_REQUEST, 0, Bytes.copyFrom(data)), frame);
        ch.decoder.finish();
        assertNull(ch.read());
    }

    @Test
    void severalFramesInOneReadAllDecodeInOrder() throws Exception {
        Decoding ch = new Decoding();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 5; i++) {
            out.writeBytes(frameBytes(i, 2 * i + 1, Frame.TYPE_DATA, i, body(i, i)));
        }
        ch.write(out.toByteArray());
        for (int i = 0; i < 5; i++) {
            Frame f = ch.read();
            assertEquals(2 * i + 1, f.streamId());
            assertEquals(Frame.TYPE_DATA, f.type());
            assertEquals(i, f.flags());
            assertArrayEquals(body(i, i), f.data().toByteArray());
        }
        assertNull(ch.read());
    }

    @Test
    void zeroLengthFrameDecodes() throws Exception {
        Decoding ch = new Decoding();
        ch.write((frameBytes(0, 1, Frame.TYPE_REQUEST, 0, new byte[0])));
        Frame f = ch.read();
        assertEquals(1, f.streamId());
        assertTrue(f.data().isEmpty());
    }

    @Test
    void unsignedFieldsAboveTwoToThe31AreKept() {
        Decoding ch = new Decoding();
        ch.write((frameBytes(1, 0xFFFF_FFFF, 0xFE, 0xFF, new byte[] {9})));
        Frame f = ch.read();
        assertEquals("4294967295", Integer.toUnsignedString(f.streamId()));
        assertEquals(0xFE, f.type());
        assertEquals(0xFF, f.flags());
    }

    @Test
    void exactlyFourMebibytesIsAFrame() throws Exception {
        Decoding ch = new Decoding();
        byte[] data = body(Frame.MAX_DATA_LENGTH, 2);
        ch.write((frameBytes(data.length, 3, Frame.TYPE_REQUEST, 0, data)));
        Frame f = ch.read();
        assertEquals(Frame.MAX_DATA_LENGTH, f.data().size());
        assertArrayEquals(data, f.data().toByteArray());
    }

    @Test
    void oneByteOverIsSkippedAcrossManyReadsAndTheNextFrameStillDecodes() throws Exception {
        Decoding ch = new Decoding();
        int over = Frame.MAX_DATA_LENGTH + 1;
        byte[] next = frameBytes(3, 7, Frame.TYPE_REQUEST, 0, new byte[] {1, 2, 3});
        byte[] wire = new byte[Frame.HEADER_LENGTH + over + next.length];
        System.arraycopy(RawConnection.header(over, 5, Frame.TYPE_REQUEST, 0), 0, wire, 0, Frame.HEADER_LENGTH);
        Arrays.fill(wire, Frame.HEADER_LENGTH, Frame.HEADER_LENGTH + over, (byte) 0x5a);
        System.arraycopy(next, 0, wire, Frame.HEADER_LENGTH + over, next.length);

        // 64 KiB reads whose boundaries never line up with the frame boundaries.
        int chunk = 65_531;
        int offset = 0;
        while (offset + chunk < Frame.HEADER_LENGTH + over) {
            ch.write(wire, offset, chunk);
            assertNull(ch.read(), "the oversized frame is reported only once its body is gone");
            offset += chunk;
        }
        ch.write(wire, offset, wire.length - offset);
        OversizedFrame oversized = ch.read();
        assertEquals(new OversizedFrame(5, Frame.TYPE_REQUEST, 0, over), oversized);
        assertEquals("message length 4194305 exceed maximum message size of 4194304", oversized.statusMessage());
        Frame f = ch.read();
        assertEquals(7, f.streamId());
        assertArrayEquals(new byte[] {1, 2, 3}, f.data().toByteArray());
        ch.decoder.finish();
    }

    @Test
    void hugeDeclaredLengthIsDiscardedWithoutBuffering() throws Exception {
        Decoding ch = new Decoding();
        ch.write(RawConnection.header(0xFFFF_FFFFL, 9, Frame.TYPE_REQUEST, 0));
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (int i = 0; i < 16; i++) {
            ch.write(chunk.duplicate());
            assertNull(ch.read());
        }
        // The input ends long before 4 GiB have gone by: that is a truncated frame.
        assertThrows(TruncatedFrameException.class, ch.decoder::finish);
    }

    @Test
    void truncatedHeaderAtEndOfInputFails() throws Exception {
        Decoding ch = new Decoding();
        ch.write(new byte[] {0, 0, 0, 4, 0});
        TruncatedFrameException e = assertThrows(TruncatedFrameException.class, ch.decoder::finish);
        assertTrue(e.getMessage().contains("header"), e.getMessage());
    }

    @Test
    void truncatedBodyAtEndOfInputFails() throws Exception {
        Decoding ch = new Decoding();
        ch.write((frameBytes(100, 1, Frame.TYPE_REQUEST, 0, body(50, 3))));
        assertNull(ch.read());
        TruncatedFrameException e = assertThrows(TruncatedFrameException.class, ch.decoder::finish);
        assertTrue(e.getMessage().contains("100-byte frame"), e.getMessage());
    }

    @Test
    void cleanEndOfInputBetweenFramesIsNotAnError() throws Exception {
        Decoding ch = new Decoding();
        ch.write((frameBytes(2, 1, Frame.TYPE_REQUEST, 0, new byte[] {1, 2})));
        ch.decoder.finish(); // no exception: the input ended between frames
        assertInstanceOf(Frame.class, ch.read());
    }

    @Test
    void encoderWritesBigEndianHeaderThenBody() throws Exception {
        byte[] bytes = FrameEncoder.encode(
                new Frame(0x0102_0304, Frame.TYPE_RESPONSE, 0x04, Bytes.copyFrom(new byte[] {7, 8, 9})));
        assertArrayEquals(new byte[] {0, 0, 0, 3, 1, 2, 3, 4, 2, 4, 7, 8, 9}, bytes);
    }

    @Test
    void encoderRefusesAnOversizedFrame() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FrameEncoder.encode(
                new Frame(1, Frame.TYPE_REQUEST, 0, Bytes.copyFrom(new byte[Frame.MAX_DATA_LENGTH + 1]))));
        assertTrue(e.getMessage().contains("message length 4194305 exceed maximum message size of 4194304"));
    }

    @Test
    void encoderOutputDecodesBackToTheSameFrames() throws Exception {
        Decoding dec = new Decoding();
        Random random = new Random(42);
        Frame[] frames = new Frame[50];
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int i = 0; i < frames.length; i++) {
            frames[i] = new Frame(random.nextInt(), random.nextInt(256), random.nextInt(256),
                    Bytes.copyFrom(body(random.nextInt(3000), i)));
            wire.writeBytes(FrameEncoder.encode(frames[i]));
        }
        // fed in reads of random sizes, as recv(2) returns them
        byte[] bytes = wire.toByteArray();
        for (int offset = 0; offset < bytes.length; ) {
            int n = Math.min(bytes.length - offset, 1 + random.nextInt(5000));
            dec.write(bytes, offset, n);
            offset += n;
        }
        for (Frame expected : frames) {
            assertEquals(expected, dec.read());
        }
        assertNull(dec.read());
    }
}
