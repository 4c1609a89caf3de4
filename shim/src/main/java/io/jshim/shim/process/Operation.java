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
            throw ShimException.notFound(refusal(status));
        }
        throw ShimException.unknown(refusal(status));
    }

    /**
     * The reference's words for this operation refused in {@code status}, as containerd's runc shim says them
     * (pkg/process/init_state.go, exec_state.go, deleted_state.go): some of its states speak of a "task" or a
     * "container" rather than a "process", and the errors it wraps in errdefs.ErrNotFound end in ": not found".
     */
    String refusal(ProcessStatus status) {
        if (this == EXEC) {
            return "cannot exec in a " + status.word() + " state";
        }
        return switch (status) {
            case DELETED -> this == DELETE ? "cannot delete a deleted process: not found"
                    : "cannot " + verb + " a deleted process";
            case CREATED, CREATED_CHECKPOINT -> switch (this) {
                case PAUSE, RESUME -> "cannot " + verb + " task in created state";
                case CHECKPOINT -> "cannot checkpoint a task in created state";
                default -> "cannot " + verb + " a created process";
            };
            case STOPPED -> switch (this) {
                case PAUSE, RESUME, UPDATE, CHECKPOINT, RESIZE -> "cannot " + verb + " a stopped container";
                default -> "cannot " + verb + " a stopped process";
            };
            case PAUSED -> this == PAUSE ? "cannot pause a paused container" : "cannot " + verb + " a paused process";
            default -> "cannot " + verb + " a " + status.word() + " process";
        };
    }
}
