package io.jshim.events;

import com.google.protobuf.Message;
import io.jshim.proto.events.TaskCheckpointed;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.events.TaskExecAdded;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.events.TaskOOM;
import io.jshim.proto.events.TaskPaused;
import io.jshim.proto.events.TaskResumed;
import io.jshim.proto.events.TaskStart;

/** The topic containerd files each task event under (reference-shim.md §3.1). */
public final class Topics {
    private Topics() {}

    public static String of(Message event) {
        return switch (event) {
            case TaskCreate e -> "/tasks/create";
            case TaskStart e -> "/tasks/start";
            case TaskDelete e -> "/tasks/delete";
            case TaskExit e -> "/tasks/exit";
            case TaskOOM e -> "/tasks/oom";
            case TaskExecAdded e -> "/tasks/exec-added";
            case TaskExecStarted e -> "/tasks/exec-started";
            case TaskPaused e -> "/tasks/paused";
            case TaskResumed e -> "/tasks/resumed";
            case TaskCheckpointed e -> "/tasks/checkpointed";
            default -> "/tasks/?";
        };
    }

    /** Events that must never be dropped, whatever the queue's pressure: the exit truth. */
    public static boolean isPrecious(Message event) {
        return event instanceof TaskExit || event instanceof TaskOOM;
    }
}
