package io.jshim.ttrpc;

import java.io.EOFException;

/** The peer closed its side in the middle of a frame (Go: io.ErrUnexpectedEOF). */
public final class TruncatedFrameException extends EOFException {
    private static final long serialVersionUID = 1L;

    TruncatedFrameException(String message) {
        super(message);
    }
}
