package io.jshim.ttrpc;

/** What {@link FrameDecoder} produces: a whole frame, or the header of one too big to accept. */
public sealed interface InboundFrame permits Frame, OversizedFrame {
    /** The stream id as the unsigned 32-bit wire value held in an int. */
    int streamId();

    int type();

    int flags();
}
