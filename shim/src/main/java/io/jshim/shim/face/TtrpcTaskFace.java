package io.jshim.shim.face;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
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
import io.jshim.shim.ShimException;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.CallContext;
import io.jshim.ttrpc.TtrpcException;
import io.jshim.ttrpc.TtrpcServer;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The Task API over ttrpc: registers the 17 methods under {@code containerd.task.v2.Task} (containerd 1.6/1.7,
 * 2.x with a version-2 shim) and {@code containerd.task.v3.Task} (same messages), each a one-line call into
 * {@link TaskService}. The namespace comes from the {@code containerd-namespace-ttrpc} metadata.
 */
public final class TtrpcTaskFace {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TtrpcTaskFace.class);
    public static final List<String> SERVICES = List.of("containerd.task.v2.Task", "containerd.task.v3.Task");
    static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    private TtrpcTaskFace() {}

    public static TtrpcServer.Builder register(TtrpcServer.Builder b, TaskService t) {
        for (String s : SERVICES) {
            method(b, s, "State", StateRequest.parser(), (ctx, r) -> t.state(r));
            method(b, s, "Create", CreateTaskRequest.parser(), (ctx, r) -> t.create(namespace(ctx), r));
            method(b, s, "Start", StartRequest.parser(), (ctx, r) -> t.start(r));
            method(b, s, "Delete", DeleteRequest.parser(), (ctx, r) -> t.delete(r));
            method(b, s, "Pids", PidsRequest.parser(), (ctx, r) -> t.pids(r));
            method(b, s, "Pause", PauseRequest.parser(), (ctx, r) -> t.pause(r));
            method(b, s, "Resume", ResumeRequest.parser(), (ctx, r) -> t.resume(r));
            method(b, s, "Checkpoint", CheckpointTaskRequest.parser(), (ctx, r) -> t.checkpoint(r));
            method(b, s, "Kill", KillRequest.parser(), (ctx, r) -> t.kill(r));
            method(b, s, "Exec", ExecProcessRequest.parser(), (ctx, r) -> t.exec(r));
            method(b, s, "ResizePty", ResizePtyRequest.parser(), (ctx, r) -> t.resizePty(r));
            method(b, s, "CloseIO", CloseIORequest.parser(), (ctx, r) -> t.closeIO(r));
            method(b, s, "Update", UpdateTaskRequest.parser(), (ctx, r) -> t.update(r));
            method(b, s, "Wait", WaitRequest.parser(), (ctx, r) -> t.await(r));
            method(b, s, "Stats", StatsRequest.parser(), (ctx, r) -> t.stats(r));
            method(b, s, "Connect", ConnectRequest.parser(), (ctx, r) -> t.connect(r));
            method(b, s, "Shutdown", ShutdownRequest.parser(), (ctx, r) -> t.shutdown(r));
        }
        return b;
    }

    private static String namespace(CallContext ctx) {
        return ctx.metadataValue(NAMESPACE_KEY).orElse(null);
    }

    private static <Req extends Message, Resp extends Message> void method(TtrpcServer.Builder b, String service,
            String name, Parser<Req> parser, BiFunction<CallContext, Req, Resp> call) {
        b.register(service, name, parser, (ctx, request) -> {
            String who = RequestIds.of(request);
            log.debug("{} {}", who, name);
            try {
                return call.apply(ctx, request);
            } catch (ShimException e) {
                log.debug("{} {}: {} {}", who, name, e.code(), e.getMessage());
                throw new TtrpcException(e.code(), e.getMessage(), e);
            }
        });
    }
}
