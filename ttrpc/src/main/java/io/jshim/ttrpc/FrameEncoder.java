package io.jshim.ttrpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Writes a {@link Frame} as header and body in one buffer, so a frame is a single outbound
 * message and frames written from different threads never interleave. A frame over 4 MiB is
 * refused (the write fails, nothing is sent), as Go's send() does.
 */
@Sharable
public final class FrameEncoder extends MessageToByteEncoder<Frame> {
    /** Stateless; one instance serves every channel. */
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    public FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Frame frame, boolean preferDirect) {
        int size = frame.data().size();
        if (size > Frame.MAX_DATA_LENGTH) {
            throw new EncoderException(Frame.oversizedMessage(size));
        }
        return ctx.alloc().ioBuffer(Frame.HEADER_LENGTH + size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
        out.writeInt(frame.data().size());
        out.writeInt(frame.streamId());
        out.writeByte(frame.type());
        out.writeByte(frame.flags());
        out.writeBytes(frame.data().asReadOnlyByteBuffer());
    }
}
