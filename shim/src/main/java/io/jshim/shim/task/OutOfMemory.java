package io.jshim.shim.task;

import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * What the daemon does when exit handling runs out of memory: it halts at once, with status {@link #STATUS}.
 *
 * <p>Why not carry on: an {@link OutOfMemoryError} can strike any thread between any two steps, so after one
 * the daemon can no longer promise that every exit is published (an exit half handled elsewhere may be lost
 * for good), and a shim that lives on but lies about exits is worse than one that dies. A dead shim is a case
 * containerd handles: it sees the connection close, runs {@code delete} (which reports the init's recorded exit
 * status, {@code init.exit}, when it was reaped) and publishes the TaskExit and TaskDelete itself. The Go shim
 * behaves alike: its runtime aborts the process when an allocation fails. Halt, not exit: shutdown hooks and
 * an orderly stop need memory and locks that the failing daemon may not have.
 */
final class OutOfMemory {
    /** The daemon's exit status after an OutOfMemoryError (not 0, not 1, which mean a shutdown and a failure). */
    static final int STATUS = 3;

    /** Logs (best effort: the log is asynchronous and never blocks) and halts the JVM. */
    static final Consumer<OutOfMemoryError> HALT = e -> {
        try {
            LoggerFactory.getLogger(OutOfMemory.class).error("out of memory in exit handling: the shim halts", e);
            io.jshim.shim.cli.LogSetup.flush(java.time.Duration.ofMillis(500));
        } catch (Throwable ignored) {
            // nothing can be done about a log line that cannot be written; halting matters more
        }
        Runtime.getRuntime().halt(STATUS);
    };

    private OutOfMemory() {}
}
