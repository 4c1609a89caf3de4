package io.jshim.shim.process;

import io.jshim.shim.ShimException;
import java.util.EnumSet;
import java.util.Set;

import static io.jshim.shim.process.ProcessStatus.CREATED;
import static io.jshim.shim.process.ProcessStatus.CREATED_CHECKPOINT;
import static io.jshim.shim.process.ProcessStatus.PAUSED;
import static io.jshim.shim.process.ProcessStatus.PAUSING;
import static io.jshim.shim.process.ProcessStatus.RUNNING;
import static io.jshim.shim.process.ProcessStatus.STOPPED;

/**
 * The lifecycle operations and the states each is allowed from: the init and exec state machines of
 * containerd's pkg/process/*_state.go as two tables instead of six state classes. A refused operation is a plain error
 * (Unknown), except on a deleted process, which no longer exists (NotFound).
 */
public enum Operation {
    START("start", EnumSet.of(CREATED, CREATED_CHECKPOINT), EnumSet.of(CREATED)),
    DELETE("delete", EnumSet.of(CREATED, CREATED_CHECKPOINT, STOPPED), EnumSet.of(CREATED, STOPPED)),
    PAUSE("pause", EnumSet.of(RUNNING), EnumSet.noneOf(ProcessStatus.class)),
    RESUME("resume", EnumSet.of(PAUSED), EnumSet.noneOf(ProcessStatus.class)),
    EXEC("exec", EnumSet.of(CREATED, RUNNING), EnumSet.noneOf(ProcessStatus.class)),
    UPDATE("update", EnumSet.of(CREATED, CREATED_CHECKPOINT, RUNNING, PAUSED), EnumSet.noneOf(ProcessStatus.class)),
    CHECKPOINT("checkpoint", EnumSet.of(RUNNING, PAUSED), EnumSet.noneOf(ProcessStatus.class)),
    RESIZE("resize", EnumSet.of(CREATED, CREATED_CHECKPOINT, RUNNING, PAUSING, PAUSED),
            EnumSet.of(CREATED, RUNNING));

    private final String verb;
    private final Set<ProcessStatus> initAllowed;
    private final Set<ProcessStatus> execAllowed;

    Operation(String verb, Set<ProcessStatus> initAllowed, Set<ProcessStatus> execAllowed) {
        this.verb = verb;
        this.initAllowed = initAllowed;
        this.execAllowed = execAllowed;
    }

    public boolean allowed(boolean init, ProcessStatus status) {
        return (init ? initAllowed : execAllowed).contains(status);
    }

    /** Throws the reference's error when {@code status} does not allow this operation. */
    public void check(boolean init, ProcessStatus status) {
        if (allowed(init, status)) {
            return;
        }
        if (status == ProcessStatus.DELETED) {
            throw ShimException.notFound("cannot " + verb + " a deleted process");
        }
        if (this == EXEC) {
            throw ShimException.unknown("cannot exec in a " + status.word() + " state");
        }
        throw ShimException.unknown("cannot " + verb + " a " + status.word() + " process");
    }
}
