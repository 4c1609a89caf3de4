package io.jshim.stdio;

import io.jshim.reaper.NativeMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one stream from a non-blocking source fd to a sink on its own platform thread, with one
 * reused 64 KiB off-heap buffer (read(2) and write(2) work on it directly, no heap copies).
 *
 * <p>Platform threads, not virtual ones: every wait is a native poll(2), which would pin one of
 * the JVM's few carrier threads for as long as the stream is idle. The thread parks in poll on
 * the data fd plus the stop eventfd, so {@link ProcessIO#close()} can end it without closing an
 * fd under it.
 *
 * <p>The copier owns its source (closed at the end unless {@code closeSource} is false, as for the
 * shared pty master) and one reference to its sink.
 */
final class Copier implements Runnable {
    static final int BUFFER_SIZE = 64 * 1024;
    /** Enough for poll/read/write downcalls and a log call; the default 1 MiB+ is waste times three per process. */
    static final long STACK_SIZE = 256 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(Copier.class);

    private final String name;
    private final Fd source;
    private final boolean closeSource;
    private final Sink sink;
    private final Wakeup stop;
    private final Wakeup drain;
    private final boolean stopOnSinkFailure;
    private final Runnable onDone;
    private final StdioTally tally;
    /** Index of the stream in {@link StdioTally#STREAMS}. */
    private final int stream;
    private long copied;
    private boolean failed;

    /**
     * @param drain             soft stop (may be null): copy what is readable, then end
     * @param stopOnSinkFailure stdin stops (closing the process's stdin); output keeps draining
     * @param onDone            runs on the copier thread after source and sink were released
     */
    Copier(String name, Fd source, boolean closeSource, Sink sink, Wakeup stop, Wakeup drain,
           boolean stopOnSinkFailure, Runnable onDone, StdioTally tally, int stream) {
        this.name = name;
        this.source = source;
        this.closeSource = closeSource;
        this.sink = sink;
        this.stop = stop;
        this.drain = drain;
        this.stopOnSinkFailure = stopOnSinkFailure;
        this.onDone = onDone;
        this.tally = tally;
        this.stream = stream;
    }

    Thread start() {
        Thread t = Thread.ofPlatform().name(name).daemon(true).stackSize(STACK_SIZE).unstarted(this);
        t.start();
        return t;
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined(); Poller poller = new Poller(stop, drain)) {
            copy(NativeMemory.uninitialized(arena, BUFFER_SIZE), poller);
        } catch (Throwable t) {
            failed = true;
            LOG.error("{}: copier failed after {} bytes", name, copied, t);
        } finally {
            if (closeSource) {
                source.close();
            }
            sink.release();
            if (failed) {
                tally.error();
            }
            LOG.debug("{}: done after {} bytes", name, copied);
            onDone.run();
        }
    }

    private void copy(MemorySegment buf, Poller poller) {
        boolean draining = false;
        while (!stop.isSignalled()) {
            long n = StdioNative.read(source.get(), buf, BUFFER_SIZE);
            if (n > 0) {
                copied += n;
                Sink.Outcome outcome = sink.write(buf, n, poller);
                if (outcome == Sink.Outcome.WRITTEN) {
                    tally.add(stream, n); // what reached the sink: output a failing sink dropped is not counted
                }
                failed |= outcome == Sink.Outcome.FAILED;
                if (outcome == Sink.Outcome.STOPPED
                        || (outcome == Sink.Outcome.FAILED && stopOnSinkFailure)) {
                    return;
                }
                continue;
            }
            if (n == 0) {
                return; // EOF: every writer closed
            }
            int err = (int) -n;
            if (err == StdioNative.EINTR) {
                continue;
            }
            if (err == StdioNative.EAGAIN) {
                if (draining) {
                    return;
                }
                switch (poller.await(source.get(), StdioNative.POLLIN, true, -1)) {
                    case STOP -> {
                        return;
                    }
                    case DRAIN -> draining = true;
                    default -> { }
                }
                continue;
            }
            if (err != StdioNative.EIO) { // EIO: a pty master whose slave side is closed, i.e. EOF
                failed = true;
                LOG.warn("{}: reading {} failed: {}", name, source.name(), StdioNative.strerror(err));
            }
            return;
        }
    }
}
