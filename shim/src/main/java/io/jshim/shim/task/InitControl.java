package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.events.TaskPaused;
import io.jshim.proto.events.TaskResumed;
import io.jshim.proto.runc.CheckpointOptions;
import io.jshim.proto.task.CheckpointTaskRequest;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.Operation;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.shim.runc.RuncException;
import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The runc calls on a running container's init: pause, resume, update, checkpoint. Each holds the init's lifecycle
 * lock across its state check, runc call and status change (by design: only lifecycle calls on the same init wait);
 * State, Kill, Wait and the rest never take it.
 */
final class InitControl {
    private final Consumer<ProtoMessage> events;

    InitControl(Consumer<ProtoMessage> events) {
        this.events = events;
    }

    void pause(Container c) {
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.PAUSE.check(true, init.status());
            init.advance(ProcessStatus.RUNNING, ProcessStatus.PAUSING);
            try {
                c.runc().pause(c.id());
            } catch (RuncException | IOException e) {
                init.advance(ProcessStatus.PAUSING, ProcessStatus.RUNNING);
                throw ShimException.unknown("OCI runtime pause failed: " + e.getMessage());
            }
            init.advance(ProcessStatus.PAUSING, ProcessStatus.PAUSED);
            events.accept(TaskPaused.newBuilder().setContainerId(c.id()).build());
        });
    }

    void resume(Container c) {
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.RESUME.check(true, init.status());
            try {
                c.runc().resume(c.id());
            } catch (RuncException | IOException e) {
                throw ShimException.unknown("OCI runtime resume failed: " + e.getMessage());
            }
            init.advance(ProcessStatus.PAUSED, ProcessStatus.RUNNING);
            events.accept(TaskResumed.newBuilder().setContainerId(c.id()).build());
        });
    }

    /** @param resources the runtime-spec LinuxResources JSON runc update reads */
    void update(Container c, byte[] resources) {
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.UPDATE.check(true, init.status());
            try {
                c.runc().update(c.id(), resources);
            } catch (RuncException | IOException e) {
                throw ShimException.unknown("OCI runtime update failed: " + e.getMessage());
            }
        });
    }

    void checkpoint(Container c, CheckpointTaskRequest r, CheckpointOptions o) {
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.CHECKPOINT.check(true, init.status());
            Checkpoints.checkpoint(c, r, o);
        });
    }

    private static void withLifecycle(InitProcess p, Runnable body) {
        ReentrantLock lock = p.lifecycleLock();
        lock.lock();
        try {
            body.run();
        } finally {
            lock.unlock();
        }
    }
}
