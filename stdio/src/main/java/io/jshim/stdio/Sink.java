package io.jshim.stdio;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a copier writes. Reference counted: stdout and stderr may share one file, which is
 * closed only after both copiers have released it.
 *
 * <p>{@link #write} never throws and never gives up on the copier: a failed write is logged once
 * per failure episode and the chunk dropped, so the copier keeps draining the process's pipe
 * and the process can never block on a dead sink.
 */
abstract sealed class Sink permits FifoSink, FileSink, PipeSink, Sink.Discard {
    enum Outcome { WRITTEN, FAILED, STOPPED }

    private static final Logger LOG = LoggerFactory.getLogger(Sink.class);

    private final AtomicInteger refs = new AtomicInteger(1);
    /** e.g. "stdout fifo /run/x/stdout of container c1 exec e1". */
    private final String description;
    private final boolean quiet;
    /** True while writes fail; flips back on the next successful write. Any copier thread. */
    private final AtomicBoolean failing = new AtomicBoolean();

    Sink(String description, boolean quiet) {
        this.description = description;
        this.quiet = quiet;
    }

    String description() {
        return description;
    }

    abstract Outcome write(MemorySegment buf, long len, Poller poller);

    /** Releases the resources; called once, when the last reference is released. */
    protected abstract void closeNow();

    final Sink retain() {
        if (refs.getAndIncrement() <= 0) {
            throw new IllegalStateException(description + " already closed");
        }
        return this;
    }

    final void release() {
        if (refs.decrementAndGet() == 0) {
            closeNow();
        }
    }

    final Outcome failed(int errno) {
        if (failing.compareAndSet(false, true)) {
            if (quiet) {
                LOG.debug("writing to {} failed: {}; dropping further output until it recovers",
                        description, StdioNative.strerror(errno));
            } else {
                LOG.warn("writing to {} failed: {} (errno {}); discarding output until it recovers, the process keeps running",
                        description, StdioNative.strerror(errno), errno);
            }
        }
        return Outcome.FAILED;
    }

    final void succeeded() {
        if (failing.get() && failing.compareAndSet(true, false)) {
            LOG.info("writing to {} works again", description);
        }
    }

    boolean isFailing() {
        return failing.get();
    }

    /** Output nobody asked for (a terminal with no stdout) still has to be read. */
    static final class Discard extends Sink {
        Discard(String description) {
            super(description, true);
        }

        @Override
        Outcome write(MemorySegment buf, long len, Poller poller) {
            return Outcome.WRITTEN;
        }

        @Override
        protected void closeNow() {}
    }
}
