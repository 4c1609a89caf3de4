package io.jshim.ttrpc;

import com.google.protobuf.UnsafeByteOperations;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link InboundFrame}s.
 *
 * <p>Unlike a LengthFieldBasedFrameDecoder, a frame over 4 MiB does not fail the channel: its
 * body is skipped as it arrives (never buffered) and an {@link OversizedFrame} is emitted once
 * the whole body has gone by, so the next frame is read from the right offset.
 *
 * <p>If the input ends inside a frame, a {@link TruncatedFrameException} is fired down the
 * pipeline; the connection handler closes the connection on it.
 *
 * <p>One instance per channel (it is stateful); all state is touched only by the channel's
 * event loop.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    // Header of the frame being read; valid while haveHeader or discardRemaining > 0.
    private boolean haveHeader;
    private long length;
    private int streamId;
    private int type;
    private int flags;
    /** Bytes of an oversized body still to skip; 0 when not discarding. */
    private long discardRemaining;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (discardRemaining > 0) {
            int skip = (int) Math.min(discardRemaining, in.readableBytes());
            in.skipBytes(skip);
            discardRemaining -= skip;
            if (discardRemaining == 0) {
                out.add(new OversizedFrame(streamId, type, flags, length));
            }
            return;
        }
        if (!haveHeader) {
            if (in.readableBytes() < Frame.HEADER_LENGTH) {
                return;
            }
            length = in.readUnsignedInt();
            streamId = in.readInt();
            type = in.readUnsignedByte();
            flags = in.readUnsignedByte();
            if (length > Frame.MAX_DATA_LENGTH) {
                // Skipped on the next decode() call; ByteToMessageDecoder calls again because
                // this call consumed bytes.
                discardRemaining = length;
                return;
            }
            haveHeader = true;
        }
        if (in.readableBytes() < length) {
            return;
        }
        byte[] data = new byte[(int) length];
        in.readBytes(data);
        haveHeader = false;
        out.add(new Frame(streamId, type, flags, UnsafeByteOperations.unsafeWrap(data)));
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // Every complete frame was already decoded by the time the input closes.
        int leftover = in.readableBytes();
        if (haveHeader || discardRemaining > 0 || leftover > 0) {
            String where = haveHeader || discardRemaining > 0
                    ? "inside the body of a " + length + "-byte frame on stream " + Integer.toUnsignedString(streamId)
                    : "inside a frame header (" + leftover + " of " + Frame.HEADER_LENGTH + " bytes)";
            in.skipBytes(leftover);
            haveHeader = false;
            discardRemaining = 0;
            throw new TruncatedFrameException("input ended " + where);
        }
    }
}
