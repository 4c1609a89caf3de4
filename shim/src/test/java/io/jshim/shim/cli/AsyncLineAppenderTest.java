package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Logging never waits for the log pipe: a full pipe drops lines, counts them and says so once it drains. */
class AsyncLineAppenderTest {

    /** A sink like a pipe nobody reads: every write blocks until {@link #open} is counted down. */
    static final class StuckSink extends OutputStream {
        final CountDownLatch open = new CountDownLatch(1);
        final CountDownLatch firstWrite = new CountDownLatch(1);
        final ByteArrayOutputStream got = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            firstWrite.countDown();
            try {
                open.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            synchronized (this) {
                got.write(b, off, len);
            }
        }

        synchronized String text() {
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void aFullPipeNeverBlocksTheCallerAndTheDropsAreReported() throws Exception {
        LoggerContext context = new LoggerContext();
        LogSetup.LineLayout layout = new LogSetup.LineLayout();
        layout.setContext(context);
        layout.start();
        StuckSink sink = new StuckSink();
        AsyncLineAppender appender = new AsyncLineAppender(layout, sink, 8);
        appender.setContext(context);
        appender.start();
        try {
            appender.doAppend(event(context, "line 0"));
            assertTrue(sink.firstWrite.await(30, TimeUnit.SECONDS), "the writer thread never wrote");
            // The writer is stuck in line 0's write: 8 lines fill the queue, the rest are dropped at once.
            long t0 = System.nanoTime();
            for (int i = 1; i <= 1000; i++) {
                appender.doAppend(event(context, "line " + i));
            }
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(tookMs < 5_000, "appending to a stuck log took " + tookMs + " ms");
            assertEquals(1000 - 8, appender.droppedCount());
            sink.open.countDown();
            // the queued lines drain first: "after" then finds room, and the drop is said before it
            assertTrue(appender.flush(Duration.ofSeconds(30)), "the queued lines did not drain");
            appender.doAppend(event(context, "after"));
            assertTrue(appender.flush(Duration.ofSeconds(30)), "the log did not drain");
            String text = sink.text();
            assertTrue(text.contains("line 0\n") && text.contains("line 8\n") && !text.contains("line 9\n"), text);
            assertTrue(text.contains("log: 992 log lines dropped (the log pipe was full; 992 in all)\n"), text);
            assertTrue(text.indexOf("dropped") < text.indexOf("after"), "the drop is said before the next line: " + text);
        } finally {
            appender.stop();
        }
    }

    private static LoggingEvent event(LoggerContext context, String message) {
        return new LoggingEvent("test", context.getLogger("io.jshim.Test"), Level.INFO, message, null, null);
    }
}
