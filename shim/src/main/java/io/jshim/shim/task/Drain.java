package io.jshim.shim.task;

import io.jshim.shim.Waits;
import io.jshim.shim.process.TaskProcess;
import io.jshim.stdio.ProcessIO;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exit is reported once the process's output is drained, bounded: a grandchild may hold the pipe forever. A drain
 * under way is a {@link Waits} entry (listed in the metrics with its container, logged once if stuck).
 */
public final class Drain {
    private static final Logger log = LoggerFactory.getLogger(Drain.class);

    /** Drains that ran out of time (the exit was reported without the rest of the output). */
    private static final LongAdder TIMEOUTS = new LongAdder();

    private Drain() {}

    public static long timeouts() {
        return TIMEOUTS.sum();
    }

    static void await(TaskProcess p, Duration limit) {
        ProcessIO io = p.io();
        if (io == null || io.drained().isDone()) {
            return;
        }
        String execId = p.execId() == null ? "" : p.execId();
        try (Waits.Open wait = Waits.begin(Waits.Kind.DRAIN, execId, p.container().id())) {
            io.drained().get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            TIMEOUTS.increment();
            log.warn("[{} {}] output not drained within {}: reporting the exit anyway", p.container().id(),
                    p.execId() == null ? "" : p.execId(), limit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.debug("[{} {}] output copy ended with {}", p.container().id(), p.execId() == null ? "" : p.execId(),
                    e.getCause().toString());
        }
    }
}
