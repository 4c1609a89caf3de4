package io.jshim.shim.face;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.task.CheckpointTaskRequest;
import io.jshim.proto.task.CloseIORequest;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.CreateTaskRequest;
import io.jshim.proto.task.DeleteRequest;
import io.jshim.proto.task.ExecProcessRequest;
import io.jshim.proto.task.KillRequest;
import io.jshim.proto.task.PauseRequest;
import io.jshim.proto.task.PidsRequest;
import io.jshim.proto.task.ResizePtyRequest;
import io.jshim.proto.task.ResumeRequest;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.proto.task.StartRequest;
import io.jshim.proto.task.StateRequest;
import io.jshim.proto.task.StatsRequest;
import io.jshim.proto.task.UpdateTaskRequest;
import io.jshim.proto.task.WaitRequest;

/** "[container exec]" of a Task request, for log lines that follow one container's story. */
final class RequestIds {
    private RequestIds() {}

    static String of(ProtoMessage request) {
        String[] ids = ids(request);
        return "[" + ids[0] + (ids[1].isEmpty() ? "" : " " + ids[1]) + "]";
    }

    /**
     * {id, exec_id} read through the generated getters of the Task API's requests; any other message by field name
     * ({@code stringField}, a switch the generator writes, no reflection).
     */
    private static String[] ids(ProtoMessage request) {
        return switch (request) {
            case CreateTaskRequest r -> new String[] {r.getId(), ""};
            case StartRequest r -> new String[] {r.getId(), r.getExecId()};
            case StateRequest r -> new String[] {r.getId(), r.getExecId()};
            case WaitRequest r -> new String[] {r.getId(), r.getExecId()};
            case DeleteRequest r -> new String[] {r.getId(), r.getExecId()};
            case KillRequest r -> new String[] {r.getId(), r.getExecId()};
            case ExecProcessRequest r -> new String[] {r.getId(), r.getExecId()};
            case CloseIORequest r -> new String[] {r.getId(), r.getExecId()};
            case ResizePtyRequest r -> new String[] {r.getId(), r.getExecId()};
            case ConnectRequest r -> new String[] {r.getId(), ""};
            case ShutdownRequest r -> new String[] {r.getId(), ""};
            case PidsRequest r -> new String[] {r.getId(), ""};
            case PauseRequest r -> new String[] {r.getId(), ""};
            case ResumeRequest r -> new String[] {r.getId(), ""};
            case StatsRequest r -> new String[] {r.getId(), ""};
            case UpdateTaskRequest r -> new String[] {r.getId(), ""};
            case CheckpointTaskRequest r -> new String[] {r.getId(), ""};
            default -> new String[] {field(request, "id"), field(request, "exec_id")};
        };
    }

    private static String field(ProtoMessage m, String name) {
        String value = m.stringField(name);
        return value == null ? "" : value;
    }
}
