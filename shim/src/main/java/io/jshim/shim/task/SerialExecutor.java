package io.jshim.shim.task;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: one container's exit lane. Exits of
 * one container are finished strictly in order while other containers' exits proceed in parallel.
 *
 * <p>A lane survives anything its task throws: the throwable is logged and the next task runs, so one failure
 * never strands the container's later exits. The exception is {@link OutOfMemoryError}, handed to
 * {@code onOutOfMemory} ({@link OutOfMemory#HALT} in the daemon) after the lane is left in a state to go on.
 */
final class SerialExecutor implements Executor {
    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

    private final Executor base;
    private final Consumer<OutOfMemoryError> onOutOfMemory;
    /** Guarded by {@code this}. */
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    /** Guarded by {@code this}: whether a drain loop is scheduled or running. */
    private boolean active;

    SerialExecutor(Executor base) {
        this(base, OutOfMemory.HALT);
    }

    SerialExecutor(Executor base, Consumer<OutOfMemoryError> onOutOfMemory) {
        this.base = base;
        this.onOutOfMemory = onOutOfMemory;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (this) {
            tasks.addLast(task);
            if (active) {
                return;
            }
            active = true;
        }
        base.execute(this::drain);
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (this) {
                next = tasks.pollFirst();
                if (next == null) {
                    active = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (OutOfMemoryError e) {
                onOutOfMemory.accept(e);
            } catch (Throwable t) {
                log.error("exit lane task failed; the lane goes on", t);
            }
        }
    }
}
