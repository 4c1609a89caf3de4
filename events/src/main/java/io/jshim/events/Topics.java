package io.jshim.events;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;
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

/** The topic containerd files each task event under (containerd runtime/events.go, core/runtime/events.go in 2.x). */
public final class Topics {
    /** The topic of a message that is not a task event (EventQueue refuses those). */
    static final String UNKNOWN = "/tasks/?";

    private Topics() {}

    /**
     * A task event's topic and its type URL as containerd's typeurl registry names it (its full protobuf name). The
     * parser reads one back ({@link #unpack}).
     */
    private record Kind(String topic, String typeUrl, ProtoParser<? extends ProtoMessage> parser) {}

    private static final Kind CREATE = new Kind("/tasks/create", TaskCreate.TYPE_NAME,
            TaskCreate.parser());
    private static final Kind START = new Kind("/tasks/start", TaskStart.TYPE_NAME,
            TaskStart.parser());
    private static final Kind DELETE = new Kind("/tasks/delete", TaskDelete.TYPE_NAME,
            TaskDelete.parser());
    private static final Kind EXIT = new Kind("/tasks/exit", TaskExit.TYPE_NAME,
            TaskExit.parser());
    private static final Kind OOM = new Kind("/tasks/oom", TaskOOM.TYPE_NAME,
            TaskOOM.parser());
    private static final Kind EXEC_ADDED = new Kind("/tasks/exec-added", TaskExecAdded.TYPE_NAME,
            TaskExecAdded.parser());
    private static final Kind EXEC_STARTED = new Kind("/tasks/exec-started", TaskExecStarted.TYPE_NAME,
            TaskExecStarted.parser());
    private static final Kind PAUSED = new Kind("/tasks/paused", TaskPaused.TYPE_NAME,
            TaskPaused.parser());
    private static final Kind RESUMED = new Kind("/tasks/resumed", TaskResumed.TYPE_NAME,
            TaskResumed.parser());
    private static final Kind CHECKPOINTED = new Kind("/tasks/checkpointed", TaskCheckpointed.TYPE_NAME,
            TaskCheckpointed.parser());

    private static final Map<String, Kind> BY_TYPE_URL = Map.of(CREATE.typeUrl, CREATE, START.typeUrl, START,
            DELETE.typeUrl, DELETE, EXIT.typeUrl, EXIT, OOM.typeUrl, OOM, EXEC_ADDED.typeUrl, EXEC_ADDED,
            EXEC_STARTED.typeUrl, EXEC_STARTED, PAUSED.typeUrl, PAUSED, RESUMED.typeUrl, RESUMED,
            CHECKPOINTED.typeUrl, CHECKPOINTED);

    /** The kind of a task event; null for any other message. */
    private static Kind kind(ProtoMessage event) {
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

    public static String of(ProtoMessage event) {
        Kind k = kind(event);
        return k == null ? UNKNOWN : k.topic();
    }

    /** The type URL an event is forwarded with; a message that is not a task event keeps its descriptor's name. */
    public static String typeUrl(ProtoMessage event) {
        Kind k = kind(event);
        return k == null ? event.typeName() : k.typeUrl();
    }

    /** Events that must never be dropped, whatever the queue's pressure: the exit truth. */
    public static boolean isPrecious(ProtoMessage event) {
        return event instanceof TaskExit || event instanceof TaskOOM;
    }

    /** Whether a type URL names a task event ({@link #unpack} reads it). */
    public static boolean isTaskEvent(String typeUrl) {
        return BY_TYPE_URL.containsKey(typeUrl);
    }

    /** The task event an {@code Any} of {@link Event#payload()} carries (type URL as containerd names it). */
    public static ProtoMessage unpack(Any any) throws InvalidProtoException {
        Kind k = BY_TYPE_URL.get(any.getTypeUrl());
        if (k == null) {
            throw new InvalidProtoException("not a task event: " + any.getTypeUrl());
        }
        return k.parser().parseFrom(any.getValue());
    }
}
