package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

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
    void headerAndBodySplitAcrossSingleByteReadsDecodeToOneFrame() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        byte[] data = body(37, 1);
        byte[] wire = frameBytes(data.length, 7, Frame.TYPE_REQUEST, 0, data);
        for (int i = 0; i < wire.length - 1; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(wire, i, 1));
            assertNull(ch.readInbound(), "nothing may come out before byte " + (i + 1) + " of " + wire.length);
        }
        ch.writeInbound(Unpooled.wrappedBuffer(wire, wire.length - 1, 1));
        Frame frame = ch.readInbound();
        assertEquals(new Frame(7, Frame.TYPE_REQUEST, 0, ByteString.copyFrom(data)), frame);
        assertFalse(ch.finish());
    }

    @Test
    void severalFramesInOneReadAllDecodeInOrder() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 5; i++) {
            out.writeBytes(frameBytes(i, 2 * i + 1, Frame.TYPE_DATA, i, body(i, i)));
        }
        ch.writeInbound(Unpooled.wrappedBuffer(out.toByteArray()));
        for (int i = 0; i < 5; i++) {
            Frame f = ch.readInbound();
            assertEquals(2 * i + 1, f.streamId());
            assertEquals(Frame.TYPE_DATA, f.type());
            assertEquals(i, f.flags());
            assertArrayEquals(body(i, i), f.data().toByteArray());
        }
        assertNull(ch.readInbound());
    }

    @Test
    void zeroLengthFrameDecodes() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(frameBytes(0, 1, Frame.TYPE_REQUEST, 0, new byte[0])));
        Frame f = ch.readInbound();
        assertEquals(1, f.streamId());
        assertTrue(f.data().isEmpty());
    }

    @Test
    void unsignedFieldsAboveTwoToThe31AreKept() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(frameBytes(1, 0xFFFF_FFFF, 0xFE, 0xFF, new byte[] {9})));
        Frame f = ch.readInbound();
        assertEquals("4294967295", Integer.toUnsignedString(f.streamId()));
        assertEquals(0xFE, f.type());
        assertEquals(0xFF, f.flags());
    }

    @Test
    void exactlyFourMebibytesIsAFrame() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        byte[] data = body(Frame.MAX_DATA_LENGTH, 2);
        ch.writeInbound(Unpooled.wrappedBuffer(frameBytes(data.length, 3, Frame.TYPE_REQUEST, 0, data)));
        Frame f = ch.readInbound();
        assertEquals(Frame.MAX_DATA_LENGTH, f.data().size());
        assertArrayEquals(data, f.data().toByteArray());
    }

    @Test
    void oneByteOverIsSkippedAcrossManyReadsAndTheNextFrameStillDecodes() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
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
            ch.writeInbound(Unpooled.wrappedBuffer(wire, offset, chunk));
            assertNull(ch.readInbound(), "the oversized frame is reported only once its body is gone");
            offset += chunk;
        }
        ch.writeInbound(Unpooled.wrappedBuffer(wire, offset, wire.length - offset));
        OversizedFrame oversized = ch.readInbound();
        assertEquals(new OversizedFrame(5, Frame.TYPE_REQUEST, 0, over), oversized);
        assertEquals("message length 4194305 exceed maximum message size of 4194304", oversized.statusMessage());
        Frame f = ch.readInbound();
        assertEquals(7, f.streamId());
        assertArrayEquals(new byte[] {1, 2, 3}, f.data().toByteArray());
        assertFalse(ch.finish());
    }

    @Test
    void hugeDeclaredLengthIsDiscardedWithoutBuffering() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(RawConnection.header(0xFFFF_FFFFL, 9, Frame.TYPE_REQUEST, 0)));
        ByteBuf chunk = Unpooled.directBuffer(1 << 20).writeZero(1 << 20);
        for (int i = 0; i < 16; i++) {
            ch.writeInbound(chunk.retainedDuplicate());
            assertNull(ch.readInbound());
        }
        chunk.release();
        // The input ends long before 4 GiB have gone by: that is a truncated frame.
        assertThrows(TruncatedFrameException.class, ch::finish);
    }

    @Test
    void truncatedHeaderAtEndOfInputFails() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 4, 0}));
        TruncatedFrameException e = assertThrows(TruncatedFrameException.class, ch::finish);
        assertTrue(e.getMessage().contains("header"), e.getMessage());
    }

    @Test
    void truncatedBodyAtEndOfInputFails() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(frameBytes(100, 1, Frame.TYPE_REQUEST, 0, body(50, 3))));
        assertNull(ch.readInbound());
        TruncatedFrameException e = assertThrows(TruncatedFrameException.class, ch::finish);
        assertTrue(e.getMessage().contains("100-byte frame"), e.getMessage());
    }

    @Test
    void cleanEndOfInputBetweenFramesIsNotAnError() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(frameBytes(2, 1, Frame.TYPE_REQUEST, 0, new byte[] {1, 2})));
        assertTrue(ch.finish(), "the decoded frame is still queued");
        assertInstanceOf(Frame.class, ch.readInbound());
    }

    @Test
    void encoderWritesBigEndianHeaderThenBody() {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
        ch.writeOutbound(new Frame(0x0102_0304, Frame.TYPE_RESPONSE, 0x04, ByteString.copyFrom(new byte[] {7, 8, 9})));
        ByteBuf out = ch.readOutbound();
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        out.release();
        assertArrayEquals(new byte[] {0, 0, 0, 3, 1, 2, 3, 4, 2, 4, 7, 8, 9}, bytes);
    }

    @Test
    void encoderRefusesAnOversizedFrameAndSendsNothing() {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
        ChannelFuture f = ch.writeOneOutbound(new Frame(1, Frame.TYPE_REQUEST, 0, ByteString.copyFrom(new byte[Frame.MAX_DATA_LENGTH + 1])));
        ch.flushOutbound();
        assertFalse(f.isSuccess());
        assertInstanceOf(EncoderException.class, f.cause());
        assertTrue(f.cause().getMessage().contains("message length 4194305 exceed maximum message size of 4194304"));
        assertNull(ch.readOutbound());
    }

    @Test
    void encoderOutputDecodesBackToTheSameFrames() {
        EmbeddedChannel enc = new EmbeddedChannel(FrameEncoder.INSTANCE);
        EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder());
        Random random = new Random(42);
        Frame[] frames = new Frame[50];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = new Frame(random.nextInt(), random.nextInt(256), random.nextInt(256),
                    ByteString.copyFrom(body(random.nextInt(3000), i)));
            enc.writeOutbound(frames[i]);
        }
        ByteBuf buf;
        while ((buf = enc.readOutbound()) != null) {
            dec.writeInbound(buf);
        }
        for (Frame expected : frames) {
            assertEquals(expected, dec.readInbound());
        }
    }
}
