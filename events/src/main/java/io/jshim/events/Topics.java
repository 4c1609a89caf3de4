package io.jshim.events;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
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
    /** The topic of a message that is not a task event (EventQueue refuses those). */
    static final String UNKNOWN = "/tasks/?";

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
            default -> UNKNOWN;
        };
    }

    /**
     * The type URL of an event as containerd's typeurl registry names it: its full protobuf name. Spelled out for
     * the task events because asking the descriptor makes a cold shim build the events' descriptors (and those of
     * their imports) before its first event can go out.
     */
    public static String typeUrl(Message event) {
        return switch (event) {
            case TaskCreate e -> "containerd.events.TaskCreate";
            case TaskStart e -> "containerd.events.TaskStart";
            case TaskDelete e -> "containerd.events.TaskDelete";
            case TaskExit e -> "containerd.events.TaskExit";
            case TaskOOM e -> "containerd.events.TaskOOM";
            case TaskExecAdded e -> "containerd.events.TaskExecAdded";
            case TaskExecStarted e -> "containerd.events.TaskExecStarted";
            case TaskPaused e -> "containerd.events.TaskPaused";
            case TaskResumed e -> "containerd.events.TaskResumed";
            case TaskCheckpointed e -> "containerd.events.TaskCheckpointed";
            default -> event.getDescriptorForType().getFullName();
        };
    }

    /** Events that must never be dropped, whatever the queue's pressure: the exit truth. */
    public static boolean isPrecious(Message event) {
        return event instanceof TaskExit || event instanceof TaskOOM;
    }

    /** The task event an {@code Any} of {@link Event#payload()} carries (type URL as containerd names it). */
    static Message unpack(Any any) throws InvalidProtocolBufferException {
        ByteString v = any.getValue();
        return switch (any.getTypeUrl()) {
            case "containerd.events.TaskCreate" -> TaskCreate.parseFrom(v);
            case "containerd.events.TaskStart" -> TaskStart.parseFrom(v);
            case "containerd.events.TaskDelete" -> TaskDelete.parseFrom(v);
            case "containerd.events.TaskExit" -> TaskExit.parseFrom(v);
            case "containerd.events.TaskOOM" -> TaskOOM.parseFrom(v);
            case "containerd.events.TaskExecAdded" -> TaskExecAdded.parseFrom(v);
            case "containerd.events.TaskExecStarted" -> TaskExecStarted.parseFrom(v);
            case "containerd.events.TaskPaused" -> TaskPaused.parseFrom(v);
            case "containerd.events.TaskResumed" -> TaskResumed.parseFrom(v);
            case "containerd.events.TaskCheckpointed" -> TaskCheckpointed.parseFrom(v);
            default -> throw new InvalidProtocolBufferException("not a task event: " + any.getTypeUrl());
        };
    }
}
