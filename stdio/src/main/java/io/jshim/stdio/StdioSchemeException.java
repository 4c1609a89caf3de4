package io.jshim.stdio;

import java.io.IOException;

/**
 * The stdout string names a scheme the shim does not know ("unknown STDIO scheme x"), or cannot
 * be parsed. An IOException, not an IllegalArgumentException, because the reference shim
 * returns it as a plain error (gRPC code Unknown); callers that want InvalidArgument can catch
 * this type.
 */
public final class StdioSchemeException extends IOException {
    private static final long serialVersionUID = 1L;

    public StdioSchemeException(String message) {
        super(message);
    }
}
