package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Splits a byte stream into {@link InboundFrame}s: the reader hands it each chunk it read ({@link #decode}) and
 * says when the input ended ({@link #finish}).
 *
 * <p>A frame over 4 MiB does not fail the connection: its body is skipped as it arrives (never buffered) and an
 * {@link OversizedFrame} is produced once the whole body has gone by, so the next frame is read from the right
 * offset. If the input ends inside a frame, {@link #finish} throws {@link TruncatedFrameException}.
 *
 * <p>A body is filled straight from the chunks as they arrive, allocated only once its first byte is here and, for
 * a large body, once the {@link BodyBudget} grants it: until then {@link #decode} stops and returns false, leaving
 * the rest of the chunk unconsumed, and the budget calls the decoder's {@code onRoom} when room may be free (the
 * connection stops reading meanwhile, then feeds the rest again).
 *
 * <p>One instance per connection (it is stateful), used by the I/O thread only.
 */
public final class FrameDecoder {
    private final BodyBudget budget;
    /** Given to the budget when a body does not fit: called (any thread) when room may be free. */
    private final Runnable onRoom;
    /** The header being read: {@link Frame#HEADER_LENGTH} bytes, {@code headerFilled} of them so far. */
    private final byte[] header = new byte[Frame.HEADER_LENGTH];
    private int headerFilled;
    // Header of the frame being read; valid while haveHeader or discardRemaining > 0.
    private boolean haveHeader;
    private long length;
    private int streamId;
    private int type;
    private int flags;
    /** Bytes of an oversized body still to skip; 0 when not discarding. */
    private long discardRemaining;
    /** The body being read, filled as bytes arrive; null until its first byte (and budget) is here. */
    private byte[] body;
    private int filled;
    /** Bytes of the budget this connection holds (0 or the current large body's length). */
    private long reserved;

    /** A decoder with no limit on bodies held (for clients and tests). */
    public FrameDecoder() {
        this(BodyBudget.unlimited(), null);
    }

    FrameDecoder(BodyBudget budget, Runnable onRoom) {
        this.budget = budget;
        this.onRoom = onRoom;
    }

    /**
     * Consumes {@code in} (position to limit) and adds every frame it completes to {@code out}, in order. False when
     * it stopped for a body the budget cannot hold yet: the rest of {@code in} is left unconsumed, to be given
     * again once {@code onRoom} has been called.
     */
    public boolean decode(ByteBuffer in, List<InboundFrame> out) {
        while (in.hasRemaining()) {
            if (discardRemaining > 0) {
                int skip = (int) Math.min(discardRemaining, in.remaining());
                in.position(in.position() + skip);
                discardRemaining -= skip;
                if (discardRemaining == 0) {
                    out.add(new OversizedFrame(streamId, type, flags, length));
                }
                continue;
            }
            if (!haveHeader) {
                int chunk = Math.min(in.remaining(), Frame.HEADER_LENGTH - headerFilled);
                in.get(header, headerFilled, chunk);
                headerFilled += chunk;
                if (headerFilled < Frame.HEADER_LENGTH) {
                    return true;
                }
                headerFilled = 0;
                ByteBuffer h = ByteBuffer.wrap(header); // big-endian, as the wire
                length = Integer.toUnsignedLong(h.getInt(0));
                streamId = h.getInt(4);
                type = header[8] & 0xff;
                flags = header[9] & 0xff;
                if (length > Frame.MAX_DATA_LENGTH) {
                    discardRemaining = length;
                    continue;
                }
                haveHeader = true;
                if (length == 0) {
                    emit(out, new byte[0]);
                    continue;
                }
                continue; // the body's first byte may be in the next chunk: allocate nothing until it is here
            }
            if (body == null) {
                if (length > BodyBudget.SMALL && reserved == 0) {
                    if (!budget.tryAcquire(length, onRoom)) {
                        return false; // onRoom is called when another body is done
                    }
                    reserved = length;
                }
                body = new byte[(int) length];
                filled = 0;
            }
            int chunk = (int) Math.min(in.remaining(), length - filled);
            in.get(body, filled, chunk);
            filled += chunk;
            if (filled == length) {
                byte[] data = body;
                body = null;
                releaseBudget();
                emit(out, data);
            }
        }
        return true;
    }

    private void emit(List<InboundFrame> out, byte[] data) {
        haveHeader = false;
        out.add(new Frame(streamId, type, flags, Bytes.wrap(data)));
    }

    /**
     * The input ended: fine between frames; inside one it throws {@link TruncatedFrameException} (Go's
     * io.ErrUnexpectedEOF). Either way the decoder holds nothing afterwards.
     */
    public void finish() throws TruncatedFrameException {
        boolean inFrame = haveHeader || discardRemaining > 0;
        int partialHeader = headerFilled;
        release();
        if (inFrame) {
            throw new TruncatedFrameException("input ended inside the body of a " + length + "-byte frame on stream "
                    + Integer.toUnsignedString(streamId));
        }
        if (partialHeader > 0) {
            throw new TruncatedFrameException("input ended inside a frame header (" + partialHeader + " of "
                    + Frame.HEADER_LENGTH + " bytes)");
        }
    }

    /** Drops a body being read and gives back its budget (the connection is closing). */
    void release() {
        haveHeader = false;
        headerFilled = 0;
        discardRemaining = 0;
        body = null;
        releaseBudget();
    }

    private void releaseBudget() {
        if (reserved > 0) {
            long n = reserved;
            reserved = 0;
            budget.release(n);
        }
    }
}
