package io.jshim.shim.face;

import io.jshim.proto.wkt.Empty;
import io.jshim.proto.task.CheckpointTaskRequest;
import io.jshim.proto.task.CloseIORequest;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.CreateTaskRequest;
import io.jshim.proto.task.CreateTaskResponse;
import io.jshim.proto.task.DeleteRequest;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.proto.task.ExecProcessRequest;
import io.jshim.proto.task.KillRequest;
import io.jshim.proto.task.PauseRequest;
import io.jshim.proto.task.PidsRequest;
import io.jshim.proto.task.PidsResponse;
import io.jshim.proto.task.ResizePtyRequest;
import io.jshim.proto.task.ResumeRequest;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.proto.task.StartRequest;
import io.jshim.proto.task.StartResponse;
import io.jshim.proto.task.StateRequest;
import io.jshim.proto.task.StateResponse;
import io.jshim.proto.task.StatsRequest;
import io.jshim.proto.task.StatsResponse;
import io.jshim.proto.task.UpdateTaskRequest;
import io.jshim.proto.task.WaitRequest;
import io.jshim.proto.task.WaitResponse;
import io.jshim.shim.task.TaskService;
import java.util.List;

/**
 * The one table of the Task API's 17 methods, shared by the ttrpc and gRPC faces so that both answer alike.
 * containerd serves the same messages as {@code containerd.task.v2.Task} and {@code containerd.task.v3.Task}.
 * State, Exec and Connect never block (TaskService keeps them to memory and short locks): containerd calls them
 * around every exec and start, State several times, and ttrpc answers them on its event loop.
 */
public final class TaskMethods {
    /** The service names the Task API is served under (v3: containerd 2.x with a version-3 shim). */
    public static final List<String> SERVICES = List.of(TtrpcTaskFace.SERVICE, TtrpcTaskV3Face.SERVICE);

    private TaskMethods() {}

    public static List<TaskMethod<?, ?>> of(TaskService t) {
        Empty empty = Empty.getDefaultInstance();
        return List.of(
                new TaskMethod<>("State", StateRequest.getDefaultInstance(), StateResponse.getDefaultInstance(),
                        (ns, r) -> t.state(r)).neverBlocking(),
                new TaskMethod<>("Create", CreateTaskRequest.getDefaultInstance(),
                        CreateTaskResponse.getDefaultInstance(), t::create),
                new TaskMethod<>("Start", StartRequest.getDefaultInstance(), StartResponse.getDefaultInstance(),
                        (ns, r) -> t.start(r)),
                new TaskMethod<>("Delete", DeleteRequest.getDefaultInstance(), DeleteResponse.getDefaultInstance(),
                        (ns, r) -> t.delete(r)),
                new TaskMethod<>("Pids", PidsRequest.getDefaultInstance(), PidsResponse.getDefaultInstance(),
                        (ns, r) -> t.pids(r)),
                new TaskMethod<>("Pause", PauseRequest.getDefaultInstance(), empty, (ns, r) -> t.pause(r)),
                new TaskMethod<>("Resume", ResumeRequest.getDefaultInstance(), empty, (ns, r) -> t.resume(r)),
                new TaskMethod<>("Checkpoint", CheckpointTaskRequest.getDefaultInstance(), empty,
                        (ns, r) -> t.checkpoint(r)),
                new TaskMethod<>("Kill", KillRequest.getDefaultInstance(), empty, (ns, r) -> t.kill(r)),
                new TaskMethod<>("Exec", ExecProcessRequest.getDefaultInstance(), empty, (ns, r) -> t.exec(r))
                        .neverBlocking(),
                new TaskMethod<>("ResizePty", ResizePtyRequest.getDefaultInstance(), empty,
                        (ns, r) -> t.resizePty(r)),
                new TaskMethod<>("CloseIO", CloseIORequest.getDefaultInstance(), empty, (ns, r) -> t.closeIO(r)),
                new TaskMethod<>("Update", UpdateTaskRequest.getDefaultInstance(), empty, (ns, r) -> t.update(r)),
                new TaskMethod<>("Wait", WaitRequest.getDefaultInstance(), WaitResponse.getDefaultInstance(),
                        (ns, r) -> t.await(r)),
                new TaskMethod<>("Stats", StatsRequest.getDefaultInstance(), StatsResponse.getDefaultInstance(),
                        (ns, r) -> t.stats(r)),
                new TaskMethod<>("Connect", ConnectRequest.getDefaultInstance(), ConnectResponse.getDefaultInstance(),
                        (ns, r) -> t.connect(r)).neverBlocking(),
                new TaskMethod<>("Shutdown", ShutdownRequest.getDefaultInstance(), empty, (ns, r) -> t.shutdown(r)));
    }
}
