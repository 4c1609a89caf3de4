package io.jshim.shim.task;

import io.jshim.shim.process.TaskProcess;
import io.jshim.stdio.ProcessIO;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An exit is reported once the process's output is drained, bounded: a grandchild may hold the pipe forever. */
final class Drain {
    private static final Logger log = LoggerFactory.getLogger(Drain.class);

    private Drain() {}

    static void await(TaskProcess p, Duration limit) {
        ProcessIO io = p.io();
        if (io == null) {
            return;
        }
        try {
            io.drained().get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
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
