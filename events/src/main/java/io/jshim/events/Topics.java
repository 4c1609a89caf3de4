package io.jshim.events;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
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
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The topic containerd files each task event under (containerd runtime/events.go, core/runtime/events.go in 2.x). */
public final class Topics {
    /** The topic of a message that is not a task event (EventQueue refuses those). */
    static final String UNKNOWN = "/tasks/?";

    private Topics() {}

    /**
     * A task event's topic and its type URL as containerd's typeurl registry names it (its full protobuf name),
     * spelled out: asking the descriptor for the name would make a cold shim build the events' descriptors, and
     * those of their imports, before its first event could go out. The parser reads one back ({@link #unpack}).
     */
    private record Kind(String topic, String typeUrl, Parser<? extends Message> parser) {}

    private static final Kind CREATE = new Kind("/tasks/create", "containerd.events.TaskCreate",
            TaskCreate.parser());
    private static final Kind START = new Kind("/tasks/start", "containerd.events.TaskStart",
            TaskStart.parser());
    private static final Kind DELETE = new Kind("/tasks/delete", "containerd.events.TaskDelete",
            TaskDelete.parser());
    private static final Kind EXIT = new Kind("/tasks/exit", "containerd.events.TaskExit",
            TaskExit.parser());
    private static final Kind OOM = new Kind("/tasks/oom", "containerd.events.TaskOOM",
            TaskOOM.parser());
    private static final Kind EXEC_ADDED = new Kind("/tasks/exec-added", "containerd.events.TaskExecAdded",
            TaskExecAdded.parser());
    private static final Kind EXEC_STARTED = new Kind("/tasks/exec-started", "containerd.events.TaskExecStarted",
            TaskExecStarted.parser());
    private static final Kind PAUSED = new Kind("/tasks/paused", "containerd.events.TaskPaused",
            TaskPaused.parser());
    private static final Kind RESUMED = new Kind("/tasks/resumed", "containerd.events.TaskResumed",
            TaskResumed.parser());
    private static final Kind CHECKPOINTED = new Kind("/tasks/checkpointed", "containerd.events.TaskCheckpointed",
            TaskCheckpointed.parser());

    private static final Map<String, Kind> BY_TYPE_URL = Stream.of(CREATE, START, DELETE, EXIT, OOM, EXEC_ADDED,
            EXEC_STARTED, PAUSED, RESUMED, CHECKPOINTED).collect(Collectors.toUnmodifiableMap(Kind::typeUrl, k -> k));

    /** The kind of a task event; null for any other message. */
    private static Kind kind(Message event) {
        return switch (event) {
            case TaskCreate e -> CREATE;
            case TaskStart e -> START;
            case TaskDelete e -> DELETE;
            case TaskExit e -> EXIT;
            case TaskOOM e -> OOM;
            case TaskExecAdded e -> EXEC_ADDED;
            case TaskExecStarted e -> EXEC_STARTED;
            case TaskPaused e -> PAUSED;
            case TaskResumed e -> RESUMED;
            case TaskCheckpointed e -> CHECKPOINTED;
            default -> null;
        };
    }

    public static String of(Message event) {
        Kind k = kind(event);
        return k == null ? UNKNOWN : k.topic();
    }

    /** The type URL an event is forwarded with; a message that is not a task event keeps its descriptor's name. */
    public static String typeUrl(Message event) {
        Kind k = kind(event);
        return k == null ? event.getDescriptorForType().getFullName() : k.typeUrl();
    }

    /** Events that must never be dropped, whatever the queue's pressure: the exit truth. */
    public static boolean isPrecious(Message event) {
        return event instanceof TaskExit || event instanceof TaskOOM;
    }

    /** The task event an {@code Any} of {@link Event#payload()} carries (type URL as containerd names it). */
    static Message unpack(Any any) throws InvalidProtocolBufferException {
        Kind k = BY_TYPE_URL.get(any.getTypeUrl());
        if (k == null) {
            throw new InvalidProtocolBufferException("not a task event: " + any.getTypeUrl());
        }
        return k.parser().parseFrom(any.getValue());
    }
}
