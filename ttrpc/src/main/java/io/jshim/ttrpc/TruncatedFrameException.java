package io.jshim.ttrpc;

import io.netty.handler.codec.CorruptedFrameException;

/** The peer closed its side in the middle of a frame (Go: io.ErrUnexpectedEOF). */
public final class TruncatedFrameException extends CorruptedFrameException {
    private static final long serialVersionUID = 1L;

    TruncatedFrameException(String message) {
        super(message);
    }
}
