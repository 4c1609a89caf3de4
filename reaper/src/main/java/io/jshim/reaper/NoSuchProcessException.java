package io.jshim.reaper;

/** ESRCH: the process (or process group) does not exist, e.g. it has already been reaped. */
public final class NoSuchProcessException extends PosixException {
    public NoSuchProcessException(String operation) {
        super(operation, Native.ESRCH);
    }
}
