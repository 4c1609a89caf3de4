package io.jshim.stdio;

import java.lang.foreign.MemorySegment;

/**
 * A non-blocking pipe or pty fd: the process's stdin pipe, a logging binary's stdout pipe, or
 * the pty master for terminal input. A full pipe is flow control, so the writer waits for room
 * as long as it takes (or until stopped).
 */
final class PipeSink extends Sink {
    private final Fd fd;
    private final boolean ownsFd;

    /** @param ownsFd whether the last release closes fd (false for the pty master, owned by Console) */
    PipeSink(Fd fd, boolean ownsFd, String description, boolean quiet) throws ErrnoException {
        super(description, quiet);
        StdioNative.setNonBlocking(fd.get(), true);
        this.fd = fd;
        this.ownsFd = ownsFd;
    }

    @Override
    Outcome write(MemorySegment buf, long len, Poller poller) {
        long off = 0;
        while (off < len) {
            long n = StdioNative.write(fd.get(), buf.asSlice(off), len - off);
            if (n >= 0) {
                off += n;
                continue;
            }
            int err = (int) -n;
            if (err == StdioNative.EINTR) {
                continue;
            }
            if (err != StdioNative.EAGAIN) {
                return failed(err);
            }
            if (poller.await(fd.get(), StdioNative.POLLOUT, false, -1) == Poller.Ready.STOP) {
                return Outcome.STOPPED;
            }
        }
        succeeded();
        return Outcome.WRITTEN;
    }

    @Override
    protected void closeNow() {
        if (ownsFd) {
            fd.close();
        }
    }
}
