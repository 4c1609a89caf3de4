package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.Operation;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.shim.runc.RuncException;
import io.jshim.stdio.ProcessIO;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Delete sequences: of an exec (its output drained, its files removed) and of an init (runc delete, stdio,
 * OOM watch and rootfs undone, the container forgotten, TaskDelete queued after its TaskExit). The caller holds
 * the process's lifecycle lock (held across runc by design: only calls on the same process wait).
 */
final class Deleter {
    private static final Logger log = LoggerFactory.getLogger(Deleter.class);
    static final Duration EXEC_DRAIN_ON_DELETE = Duration.ofSeconds(10);
    static final Duration CREATED_INIT_EXIT_WAIT = Duration.ofSeconds(10);

    private final Consumer<ProtoMessage> events;
    private final ExitCoordinator exits;
    private final ContainerTable containers;
    private final Checkpoints checkpoints;

    Deleter(Consumer<ProtoMessage> events, ExitCoordinator exits, ContainerTable containers, Checkpoints checkpoints) {
        this.events = events;
        this.exits = exits;
        this.containers = containers;
        this.checkpoints = checkpoints;
    }

    DeleteResponse deleteExec(Container c, ExecProcess exec) {
        Operation.DELETE.check(false, exec.status());
        ProcessIO io = exec.io();
        if (io != null) {
            try {
                io.drained().get(EXEC_DRAIN_ON_DELETE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                log.warn("[{} {}] output not drained on delete: {}", c.id(), exec.id(), e.toString());
            }
            Quietly.close(io);
        }
        Quietly.delete(c.bundle().resolve(exec.id() + ".pid"));
        exec.setDeleted();
        c.removeExec(exec.id());
        ExitStatus exit = exec.exit().orElse(new ExitStatus(0, Instant.EPOCH));
        return response(exec.pid(), exit);
    }

    DeleteResponse deleteInit(Container c, InitProcess init) {
        ProcessStatus status = init.status();
        Operation.DELETE.check(true, status);
        if ((status == ProcessStatus.CREATED || status == ProcessStatus.CREATED_CHECKPOINT) && init.pid() > 0) {
            // The init waits in runc's exec fifo: killing it is its exit, reported like any other.
            try {
                c.runc().kill(c.id(), 9, false);
            } catch (RuncException | IOException e) {
                log.debug("[{}] kill of created init: {}", c.id(), e.getMessage());
            }
            try {
                if (init.awaitExit(CREATED_INIT_EXIT_WAIT).isEmpty()) {
                    log.warn("[{}] created init did not exit within {}", c.id(), CREATED_INIT_EXIT_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ShimException.unknown("interrupted");
            }
        }
        try {
            c.runc().delete(c.id(), true);
        } catch (RuncException e) {
            if (!e.isNotExist()) {
                throw ShimException.unknown("failed to delete task: " + e.getMessage());
            }
        } catch (IOException e) {
            throw ShimException.unknown("failed to delete task: " + e.getMessage());
        }
        Quietly.close(init.io());
        Quietly.close(c.oomWatch());
        try {
            Rootfs.unmount(c);
        } catch (IOException e) {
            throw ShimException.unknown("failed rootfs umount: " + e.getMessage());
        }
        init.setDeleted();
        containers.remove(c);
        checkpoints.forget(c.id());
        exits.forget(c);
        containers.armIdleExitIfEmpty();
        ExitStatus exit = init.exit().orElse(new ExitStatus(0, Instant.now()));
        events.accept(TaskDelete.newBuilder().setContainerId(c.id()).setPid(init.pid())
                .setExitStatus(exit.status()).setExitedAt(Event.toTimestamp(exit.at())).build());
        log.info("[{}] deleted", c.id());
        return response(init.pid(), exit);
    }

    private static DeleteResponse response(int pid, ExitStatus exit) {
        return DeleteResponse.newBuilder().setPid(pid).setExitStatus(exit.status())
                .setExitedAt(Event.toTimestamp(exit.at())).build();
    }
}
