package io.jshim.ttrpc;

/**
 * Writes a {@link Frame} as header and body in one array, so a frame is a single write and frames written from
 * different threads never interleave (each write holds the connection's write lock). A frame over 4 MiB is refused
 * (nothing is sent), as Go's send() does.
 */
public final class FrameEncoder {
    private FrameEncoder() {
    }

    /**
     * The frame's wire bytes: u32 BE length, u32 BE stream id, u8 type, u8 flags, then the data.
     *
     * @throws IllegalArgumentException "message length N exceed maximum message size of 4194304"
     */
    public static byte[] encode(Frame frame) {
        int size = frame.data().size();
        if (size > Frame.MAX_DATA_LENGTH) {
            throw new IllegalArgumentException(Frame.oversizedMessage(size));
        }
        byte[] out = new byte[Frame.HEADER_LENGTH + size];
        putInt(out, 0, size);
        putInt(out, 4, frame.streamId());
        out[8] = (byte) frame.type();
        out[9] = (byte) frame.flags();
        frame.data().copyTo(out, Frame.HEADER_LENGTH);
        return out;
    }

    private static void putInt(byte[] out, int at, int value) {
        out[at] = (byte) (value >>> 24);
        out[at + 1] = (byte) (value >>> 16);
        out[at + 2] = (byte) (value >>> 8);
        out[at + 3] = (byte) value;
    }
}
