package io.jshim.shim.task;

import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.shim.process.TaskProcess;
import io.jshim.shim.runc.RuncException;
import java.io.IOException;
import java.time.Duration;

/**
 * The ways of a Kill: a process's own pidfd where it has one (a reused pid is never signalled), runc kill for the
 * init without one or for all of a container's processes. Takes no lock: Kill answers while a slow Start or Delete runs.
 */
final class Killer {
    static final Duration KILL_FINISHED_WAIT = Duration.ofSeconds(10);

    private final ExitCoordinator exits;

    Killer(ExitCoordinator exits) {
        this.exits = exits;
    }

    void kill(Container c, TaskProcess p, int signal, boolean all) {
        switch (p) {
            case InitProcess init -> {
                if (init.status() == ProcessStatus.DELETED) {
                    throw ShimException.notFound("cannot kill a deleted process: not found");
                }
                if (!all && (init.exit().isPresent() || exits.initExited(c))) {
                    throw finished(init);
                }
                if (!all && init.hasPidfd()) {
                    signal(init, signal); // the process itself: a reused pid is never signalled
                    return;
                }
                try {
                    c.runc().kill(c.id(), signal, all);
                } catch (RuncException e) {
                    if (e.isNotRunning()) {
                        throw finished(init);
                    }
                    if (e.isNotExist()) {
                        throw ShimException.notFound("no such container: not found");
                    }
                    throw ShimException.unknown("unknown error after kill: " + e.getMessage());
                } catch (IOException e) {
                    throw ShimException.unknown("unknown error after kill: " + e.getMessage());
                }
            }
            case ExecProcess exec -> {
                if (exec.status() == ProcessStatus.DELETED) {
                    throw ShimException.notFound("cannot kill a deleted process: not found");
                }
                int pid = exec.pid();
                if (pid == 0) {
                    throw ShimException.failedPrecondition("process not created: failed precondition");
                }
                if (exec.exit().isPresent()) {
                    throw finished(exec);
                }
                signal(exec, signal); // through its pidfd: a reused pid is never signalled
            }
        }
    }

    /** Signals {@code p} through its pidfd (by pid where there are none); NotFound once it is gone. */
    private static void signal(TaskProcess p, int signal) {
        try {
            if (!p.signal(signal)) {
                throw finished(p);
            }
        } catch (IOException e) {
            throw ShimException.unknown("unknown error after kill: " + e.getMessage());
        }
    }

    /**
     * Kill's NotFound for a process found dead, answered once its exit is committed (its TaskExit queued, see
     * ExitCoordinator), so that no answer reveals an exit containerd has not been told of; bounded, as the exit
     * may wait for a slow output drain.
     */
    private static ShimException finished(TaskProcess p) {
        try {
            p.awaitExit(KILL_FINISHED_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ShimException.notFound("process already finished: not found");
    }
}
