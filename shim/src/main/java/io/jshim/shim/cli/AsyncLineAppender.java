package io.jshim.shim.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The daemon's log appender: a line is formatted on the caller's thread and handed to a bounded queue; one
 * platform thread of its own writes the lines to the sink (the bundle's {@code log} fifo). A caller never
 * waits for the pipe: when containerd stops reading and the pipe fills, the writer blocks, the queue fills and
 * further lines are dropped and counted; the writer says how many ("N log lines dropped") before the next line
 * it gets through. So the ttrpc event loop, which logs from State, Exec and Connect, can never block on the log.
 */
final class AsyncLineAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /** Lines held for the writer; past this they are dropped (a line is ~150 bytes: ~600 kB at most). */
    static final int CAPACITY = 4096;

    private final Layout<ILoggingEvent> layout;
    private final OutputStream sink;
    private final ArrayBlockingQueue<byte[]> lines;
    private final AtomicLong dropped = new AtomicLong();
    /** Lines taken by the writer and written (or failed); with {@link #queued}, tells a flush when it is done. */
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong queued = new AtomicLong();
    private Thread writer;

    AsyncLineAppender(Layout<ILoggingEvent> layout, OutputStream sink, int capacity) {
        this.layout = layout;
        this.sink = sink;
        this.lines = new ArrayBlockingQueue<>(capacity);
    }

    @Override
    public void start() {
        writer = Thread.ofPlatform().name("jshim-log").daemon(true).unstarted(this::writeForever);
        writer.start();
        super.start();
    }

    @Override
    public void stop() {
        super.stop();
        if (writer != null) {
            writer.interrupt();
        }
    }

    @Override
    protected void append(ILoggingEvent event) {
        byte[] line = layout.doLayout(event).getBytes(StandardCharsets.UTF_8);
        if (lines.offer(line)) {
            queued.incrementAndGet();
        } else {
            dropped.incrementAndGet();
        }
    }

    /** Lines dropped so far because the queue was full. */
    long droppedCount() {
        return dropped.get();
    }

    /** Waits (at most {@code limit}) until every line queued so far is written; whether it got there. */
    boolean flush(Duration limit) {
        long target = queued.get();
        long deadline = System.nanoTime() + limit.toNanos();
        while (written.get() < target) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void writeForever() {
        long reported = 0;
        while (true) {
            byte[] line;
            try {
                line = lines.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                long lost = dropped.get();
                if (lost > reported) {
                    sink.write(("log: " + (lost - reported) + " log lines dropped (the log pipe was full; "
                            + lost + " in all)\n").getBytes(StandardCharsets.UTF_8));
                    reported = lost;
                }
                sink.write(line);
                sink.flush();
            } catch (IOException e) {
                // the reader is gone (EPIPE): nothing to tell it; keep draining so callers never wait
            } finally {
                written.incrementAndGet();
            }
        }
    }
}
