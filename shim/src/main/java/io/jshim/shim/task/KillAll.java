package io.jshim.shim.task;

import io.jshim.cgroups.Cgroup;
import io.jshim.shim.process.Container;
import io.jshim.shim.runc.RuncException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the init's exit does to the rest of a container that has no private PID namespace (containerd's runc
 * shim: {@code runc kill --all <id> SIGKILL}). An interface so the exit coordinator's model test can play runc.
 */
@FunctionalInterface
interface KillAll {
    /** Ends every process left in {@code c}; failures are logged, never thrown (the init's exit goes on). */
    void afterInitExit(Container c);

    KillAll RUNC = RuncKillAll::killAll;

    /**
     * SIGKILL to every process of the container (through cgroup.kill where the kernel has it, else
     * {@code runc kill --all}), then a bounded wait for the container's cgroup to empty.
     */
    final class RuncKillAll {
        private static final Logger log = LoggerFactory.getLogger(KillAll.class);
        /** How long the init's exit waits for the kill to take effect (a process in D state may not die). */
        static final Duration LIMIT = Duration.ofSeconds(2);

        private RuncKillAll() {}

        static void killAll(Container c) {
            try {
                Cgroup cgroup = c.cgroup();
                if (cgroup != null && cgroup.killAll()) {
                    log.debug("[{}] killed what is left through cgroup.kill", c.id());
                } else {
                    c.runc().kill(c.id(), 9, true);
                }
                awaitKilled(c);
            } catch (RuncException | IOException e) {
                log.debug("[{}] kill --all after init exit: {}", c.id(), e.getMessage());
            }
        }

        /**
         * {@code runc kill --all} returns once the signals are sent, not once the processes are dead; the init's
         * TaskExit promises none is left, so wait (bounded) until the container's cgroup is empty. A process
         * leaves its cgroup as it exits, so this takes the kernel's time to tear the processes down.
         */
        private static void awaitKilled(Container c) {
            Cgroup cgroup = c.cgroup();
            if (cgroup == null) {
                return;
            }
            long deadline = System.nanoTime() + LIMIT.toNanos();
            long pauseMicros = 100;
            try {
                while (cgroup.populated()) {
                    if (System.nanoTime() - deadline > 0) {
                        log.warn("[{}] processes still in the cgroup {} after kill --all: {}", c.id(), LIMIT,
                                cgroup.processes());
                        return;
                    }
                    TimeUnit.MICROSECONDS.sleep(pauseMicros);
                    pauseMicros = Math.min(pauseMicros * 2, 10_000);
                }
            } catch (IOException e) {
                log.debug("[{}] cgroup.procs after kill --all: {}", c.id(), e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
