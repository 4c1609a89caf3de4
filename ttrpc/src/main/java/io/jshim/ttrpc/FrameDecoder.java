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
    private final BodyBudget budget;
    // Header of the frame being read; valid while haveHeader or discardRemaining > 0.
    private boolean haveHeader;
    private long length;
    private int streamId;
    private int type;
    private int flags;
    /** Bytes of an oversized body still to skip; 0 when not discarding. */
    private long discardRemaining;
    /**
     * The body being read, filled as bytes arrive: a body is never accumulated in the channel's
     * (pooled, direct) cumulation buffer and then copied, so a 4 MiB body costs 4 MiB of heap
     * once, not 4 MiB of direct memory the pool keeps afterwards plus the copy. Allocated only
     * once the first body byte is here and, for a large body, once the budget grants it, so a
     * header alone costs nothing.
     */
    private byte[] body;
    private int filled;
    /** Bytes of the budget this connection holds (0 or the current large body's length). */
    private long reserved;
    /** Waiting for budget: reading is off until it is granted. */
    private boolean waiting;

    /** A decoder with no limit on bodies held (for clients). */
    public FrameDecoder() {
        this(BodyBudget.unlimited());
    }

    FrameDecoder(BodyBudget budget) {
        this.budget = budget;
    }

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
        if (body == null) {
            if (length > 0 && !in.isReadable()) {
                return; // nothing of the body yet: allocate nothing
            }
            if (length > BodyBudget.SMALL && reserved == 0) {
                if (waiting) {
                    return;
                }
                if (!budget.tryAcquire(length, () -> grant(ctx))) {
                    waiting = true;
                    ctx.channel().config().setAutoRead(false);
                    return;
                }
                reserved = length;
            }
            body = new byte[(int) length];
            filled = 0;
        }
        int chunk = (int) Math.min(in.readableBytes(), length - filled);
        in.readBytes(body, filled, chunk);
        filled += chunk;
        if (filled < length) {
            return;
        }
        byte[] data = body;
        body = null;
        haveHeader = false;
        releaseBudget();
        out.add(new Frame(streamId, type, flags, UnsafeByteOperations.unsafeWrap(data)));
    }

    /** Called by the budget (any thread) when room may be free: retry on the event loop. */
    private void grant(ChannelHandlerContext ctx) {
        ctx.channel().eventLoop().execute(() -> {
            if (!waiting || ctx.isRemoved()) {
                return;
            }
            waiting = false;
            ctx.channel().config().setAutoRead(true);
            // Decode what is already buffered (the whole body may be here), then read on.
            ctx.pipeline().fireChannelRead(io.netty.buffer.Unpooled.EMPTY_BUFFER);
            ctx.read();
        });
    }

    private void releaseBudget() {
        if (reserved > 0) {
            long n = reserved;
            reserved = 0;
            budget.release(n);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        body = null;
        waiting = false;
        releaseBudget();
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
            body = null;
            discardRemaining = 0;
            waiting = false;
            releaseBudget();
            throw new TruncatedFrameException("input ended " + where);
        }
    }
}
