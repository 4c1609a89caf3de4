package io.jshim.stdio;

import java.io.IOException;

/** A failed system call, carrying the errno so callers can tell EPIPE from ENOSPC from ENOENT. */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public ErrnoException(String what, int errno) {
        super(what + ": " + StdioNative.strerror(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
