package io.jshim.proto.wire;

import java.io.IOException;

/** Bytes that are not a valid encoding of the expected message: truncated, malformed or too deeply nested. */
public final class InvalidProtoException extends IOException {
    public InvalidProtoException(String message) {
        super(message);
    }
}
