package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;

/**
 * One ttrpc frame: a 10-byte header (u32 BE data length, u32 BE stream id, u8 type, u8 flags)
 * and its data. The data is an immutable copy, so a frame can cross threads without reference
 * counting.
 *
 * @param streamId the unsigned 32-bit stream id held in an int (compare with
 *                 {@link Integer#compareUnsigned})
 * @param type     message type, 0..255 (see {@link #TYPE_REQUEST} etc.)
 * @param flags    flags, 0..255, meaning depends on the type
 * @param data     the frame body
 */
public record Frame(int streamId, int type, int flags, Bytes data) implements InboundFrame {
    public static final int HEADER_LENGTH = 10;
    /** messageLengthMax of the Go implementation: 4 MiB. */
    public static final int MAX_DATA_LENGTH = 4 << 20;

    public static final int TYPE_REQUEST = 0x01;
    public static final int TYPE_RESPONSE = 0x02;
    public static final int TYPE_DATA = 0x03;

    public static final int FLAG_REMOTE_CLOSED = 0x01;
    public static final int FLAG_REMOTE_OPEN = 0x02;
    public static final int FLAG_NO_DATA = 0x04;

    public Frame {
        if ((type & ~0xff) != 0 || (flags & ~0xff) != 0) {
            throw new IllegalArgumentException("type and flags are single bytes: " + type + ", " + flags);
        }
        if (data == null) {
            data = Bytes.EMPTY;
        }
    }

    /** The text the Go implementation uses for a frame over {@link #MAX_DATA_LENGTH}. */
    static String oversizedMessage(long length) {
        return "message length " + length + " exceed maximum message size of " + MAX_DATA_LENGTH;
    }

    @Override
    public String toString() {
        return "Frame[stream=" + Integer.toUnsignedString(streamId) + ", type=" + type + ", flags=" + flags
                + ", length=" + data.size() + "]";
    }
}
