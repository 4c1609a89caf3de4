package io.jshim.shim.process;

import io.jshim.proto.types.Status;

/**
 * The states of a container process (containerd pkg/process/*_state.go). {@link #CREATED_CHECKPOINT} is an init that
 * will be restored from a checkpoint at Start; it reports as created.
 */
public enum ProcessStatus {
    CREATED, CREATED_CHECKPOINT, RUNNING, PAUSING, PAUSED, STOPPED, DELETED;

    public Status toProto() {
        return switch (this) {
            case CREATED, CREATED_CHECKPOINT -> Status.CREATED;
            case RUNNING -> Status.RUNNING;
            case PAUSING -> Status.PAUSING;
            case PAUSED -> Status.PAUSED;
            // a deleted process reads as stopped, as the reference's deletedState does
            case STOPPED, DELETED -> Status.STOPPED;
        };
    }

    /** How the reference names the state in its "cannot <op> a <state> process" errors. */
    public String word() {
        return switch (this) {
            case CREATED, CREATED_CHECKPOINT -> "created";
            case RUNNING -> "running";
            case PAUSING -> "pausing";
            case PAUSED -> "paused";
            case STOPPED -> "stopped";
            case DELETED -> "deleted";
        };
    }
}
