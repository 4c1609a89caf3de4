package io.jshim.ttrpc;

/**
 * A frame whose declared length was over {@link Frame#MAX_DATA_LENGTH}. The decoder has already
 * discarded its body, so the stream stays in sync; the receiver answers ResourceExhausted on
 * {@link #streamId()} (server) or fails that call (client).
 *
 * @param length the declared data length, an unsigned 32-bit value
 */
public record OversizedFrame(int streamId, int type, int flags, long length) implements InboundFrame {
    /** "message length N exceed maximum message size of 4194304", as Go ttrpc words it. */
    public String statusMessage() {
        return Frame.oversizedMessage(length);
    }
}
