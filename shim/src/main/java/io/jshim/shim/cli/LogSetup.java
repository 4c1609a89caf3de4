package io.jshim.shim.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging set up in code (no XML to parse at start-up). {@code start} must print nothing, so logging is off until
 * {@link #toStderr} is called: the daemon does so after pointing fd 2 at the bundle's {@code log} fifo, whose
 * lines containerd copies into its own log. Lines read {@code time level [logger] message}; the messages carry
 * the container and exec ids.
 */
// No @ConfiguratorRank: logback reads a configurator's rank annotation to log its order, and reading an annotation
// makes the JDK generate a proxy class, slow in a cold JVM. The only configurator found needs no rank.
public final class LogSetup extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.OFF);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Whether fd 2 already is {@code file} (the launcher script opened the bundle's log fifo as our stderr). */
    static boolean isStderr(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.isSameFile(java.nio.file.Path.of("/proc/self/fd/2"), file);
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** The daemon's appender once {@link #toStderr} ran; null before. */
    private static volatile AsyncLineAppender active;
    /** Whether the shutdown hook that flushes the log is registered. Guarded by LogSetup.class. */
    private static boolean flushHook;

    /**
     * Waits (at most {@code limit}) until the lines logged so far are written: before the daemon exits or halts,
     * whose last lines would otherwise die in the queue. Whether they all got out.
     */
    public static boolean flush(java.time.Duration limit) {
        AsyncLineAppender a = active;
        return a == null || a.flush(limit);
    }

    /** Sends every log line at {@code level} or above to stderr. */
    public static synchronized void toStderr(boolean debug) {
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        // A layout of our own rather than a PatternLayoutEncoder: parsing a pattern and building its converters
        // cost a cold daemon dearly (StartupTimeline), for the same line.
        LineLayout layout = new LineLayout();
        layout.setContext(context);
        layout.start();
        // Asynchronous and never blocking: a full log pipe (containerd not reading) must not stall a ttrpc
        // connection's reader thread, which runs the never-blocking methods.
        AsyncLineAppender appender = new AsyncLineAppender(layout,
                new java.io.FileOutputStream(java.io.FileDescriptor.err), AsyncLineAppender.CAPACITY);
        appender.setContext(context);
        appender.setName("stderr");
        appender.start();
        active = appender;
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
        String level = System.getenv("JSHIM_LOG_LEVEL");
        root.setLevel(debug || "DEBUG".equals(level) || "TRACE".equals(level) ? Level.DEBUG : Level.INFO);
        // Netty (gRPC daemons, the console socket) is chatty at debug; its own problems surface as our errors. Only a
        // logger name: no Netty class loads for it.
        context.getLogger("io.netty").setLevel(Level.INFO);
        if (!flushHook) { // the daemon's last lines (shutting down, a failure) out before the JVM goes
            flushHook = true;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> flush(java.time.Duration.ofSeconds(1)), "jshim-log-flush"));
        }
    }

    /** {@code 2024-05-01T10:00:00.123Z INFO  [Daemon] message}, and the stack of a throwable if there is one. */
    static final class LineLayout extends LayoutBase<ILoggingEvent> {
        @Override
        public String doLayout(ILoggingEvent e) {
            StringBuilder b = new StringBuilder(128);
            UtcTime.append(b, e.getTimeStamp()).append(' ');
            String level = e.getLevel().toString();
            b.append(level).append(" ".repeat(Math.max(1, 6 - level.length())));
            String logger = e.getLoggerName();
            b.append('[').append(logger, logger.lastIndexOf('.') + 1, logger.length()).append("] ");
            b.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                b.append(ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(e.getThrowableProxy())).append('\n');
            }
            return b.toString();
        }
    }
}
