package io.jshim.reaper;

import java.io.IOException;

/** A failed system call: the message names the operation, the errno text and its symbolic name. */
public class PosixException extends IOException {
    private final int errno;

    public PosixException(String operation, int errno) {
        super(operation + ": " + Posix.strerror(errno) + " (" + Posix.errnoName(errno) + ")");
        this.errno = errno;
    }

    /** The errno value, e.g. 2 for ENOENT. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. "ENOENT". */
    public String errnoName() {
        return Posix.errnoName(errno);
    }
}
