package io.jshim.stdio;

import java.lang.foreign.MemorySegment;

/**
 * A regular file (or anything else that is not a fifo) opened O_WRONLY|O_APPEND. Writes block
 * only as long as the file system takes; ENOSPC and other errors drop the chunk.
 */
final class FileSink extends Sink {
    private final Fd fd;

    private FileSink(Fd fd, String description) {
        super(description, false);
        this.fd = fd;
    }

    /** @param create create the file (file:// URIs) instead of requiring it to exist */
    static FileSink open(String path, boolean create, String description) throws ErrnoException {
        int flags = StdioNative.O_WRONLY | StdioNative.O_APPEND | (create ? StdioNative.O_CREAT : 0);
        return new FileSink(new Fd(StdioNative.open(path, flags, 0644), description), description);
    }

    @Override
    Outcome write(MemorySegment buf, long len, Poller poller) {
        long off = 0;
        while (off < len) {
            if (poller.stopRequested()) {
                return Outcome.STOPPED;
            }
            long n = StdioNative.write(fd.get(), buf.asSlice(off), len - off);
            if (n > 0) {
                off += n;
                continue;
            }
            int err = n == 0 ? StdioNative.ENOSPC : (int) -n;
            if (err == StdioNative.EINTR) {
                continue;
            }
            if (err == StdioNative.EAGAIN) {
                // A character device opened non-blocking by someone else: wait for room.
                if (poller.await(fd.get(), StdioNative.POLLOUT, false, -1) == Poller.Ready.STOP) {
                    return Outcome.STOPPED;
                }
                continue;
            }
            return failed(err);
        }
        succeeded();
        return Outcome.WRITTEN;
    }

    @Override
    protected void closeNow() {
        fd.close();
    }
}
