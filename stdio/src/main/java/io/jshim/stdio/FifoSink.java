package io.jshim.stdio;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output fifo created by the client (containerd's /run/containerd/fifo/.../stdout).
 *
 * <p>Like the runc shim, we open it for writing and also hold it open for reading. The held read
 * end makes the open never block or fail with ENXIO, and it keeps the fifo "read" while the
 * client's reader is away (containerd restarting, CRI re-attaching): output waits in the fifo
 * buffer instead of failing with EPIPE.
 *
 * <p>But a held read end also hides a reader that is gone for good: the fifo fills, writes stall,
 * and the process would block on its stdout forever (the runc shim's behaviour). So when the fifo
 * stays full for {@code grace}, we probe: close our read end and write once more. EPIPE means no
 * one else reads, so output is discarded (logged once) and the copier keeps draining; EAGAIN or
 * success means a slow reader, so the read end is re-opened (through /proc/self/fd, which works
 * even if the path was removed) and we keep waiting. When a reader comes back, writes succeed
 * again and the read end is re-held.
 */
final class FifoSink extends Sink {
    private static final Logger LOG = LoggerFactory.getLogger(FifoSink.class);

    private final Fd writer;
    /** Our own read end, or null while probing/discarding. Touched only by the writing copier (and by closeNow after it). */
    private Fd heldReader;
    private final int graceMillis;

    private FifoSink(Fd writer, Fd heldReader, Duration grace, String description) {
        super(description, false);
        this.writer = writer;
        this.heldReader = heldReader;
        this.graceMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, grace.toMillis()));
    }

    static FifoSink open(String path, Duration grace, String description) throws ErrnoException {
        Fd reader = new Fd(StdioNative.open(path, StdioNative.O_RDONLY | StdioNative.O_NONBLOCK, 0), description + " (held reader)");
        try {
            Fd writer = new Fd(StdioNative.open(path, StdioNative.O_WRONLY | StdioNative.O_NONBLOCK, 0), description);
            return new FifoSink(writer, reader, grace, description);
        } catch (ErrnoException e) {
            reader.close();
            throw e;
        }
    }

    @Override
    Outcome write(MemorySegment buf, long len, Poller poller) {
        long off = 0;
        while (off < len) {
            long n = StdioNative.write(writer.get(), buf.asSlice(off), len - off);
            if (n >= 0) {
                off += n;
                if (heldReader == null) {
                    holdReader();
                }
                continue;
            }
            int err = (int) -n;
            if (err == StdioNative.EINTR) {
                continue;
            }
            if (err == StdioNative.EAGAIN) {
                if (heldReader == null) {
                    // A reader exists (else EPIPE) but is slow: back to a normal wait.
                    holdReader();
                }
                Poller.Ready r = poller.await(writer.get(), StdioNative.POLLOUT, false, graceMillis);
                if (r == Poller.Ready.STOP) {
                    return Outcome.STOPPED;
                }
                if (r == Poller.Ready.TIMEOUT) {
                    dropHeldReader();
                }
                continue;
            }
            // EPIPE: nobody reads (our own reader is already dropped). Anything else: broken.
            return failed(err);
        }
        succeeded();
        return Outcome.WRITTEN;
    }

    private void dropHeldReader() {
        Fd r = heldReader;
        heldReader = null;
        if (r != null) {
            r.close();
        }
    }

    private void holdReader() {
        try {
            heldReader = new Fd(StdioNative.open("/proc/self/fd/" + writer.get(), StdioNative.O_RDONLY | StdioNative.O_NONBLOCK, 0),
                    description() + " (held reader)");
        } catch (ErrnoException e) {
            LOG.debug("cannot re-open a held reader for {}: {}", description(), e.getMessage());
        }
    }

    /** For tests: whether we currently hold our own read end. */
    boolean holdsReader() {
        return heldReader != null;
    }

    @Override
    protected void closeNow() {
        writer.close();
        dropHeldReader();
    }
}
