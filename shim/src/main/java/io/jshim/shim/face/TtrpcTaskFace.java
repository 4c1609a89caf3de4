package io.jshim.shim.face;

import com.google.protobuf.Message;
import io.jshim.shim.ShimException;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.Execution;
import io.jshim.ttrpc.TtrpcException;
import io.jshim.ttrpc.TtrpcServer;
import java.util.List;

/**
 * The Task API over ttrpc: registers the methods of {@link TaskMethods} under {@code containerd.task.v2.Task}
 * (containerd 1.6/1.7, 2.x with a version-2 shim) and {@code containerd.task.v3.Task} (same messages). The
 * namespace comes from the {@code containerd-namespace-ttrpc} metadata.
 */
public final class TtrpcTaskFace {
    public static final List<String> SERVICES = TaskMethods.SERVICES;
    static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    private TtrpcTaskFace() {}

    public static TtrpcServer.Builder register(TtrpcServer.Builder b, TaskService t) {
        List<TaskMethod<?, ?>> methods = TaskMethods.of(t);
        for (String s : SERVICES) {
            for (TaskMethod<?, ?> m : methods) {
                register(b, s, m);
            }
        }
        return b;
    }

    private static <Req extends Message, Resp extends Message> void register(TtrpcServer.Builder b, String service,
            TaskMethod<Req, Resp> m) {
        Execution where = m.neverBlocks() ? Execution.EVENT_LOOP : Execution.VIRTUAL_THREAD;
        b.register(service, m.name(), where, m.parser(), (ctx, request) -> {
            try {
                return m.invoke(ctx.metadataValue(NAMESPACE_KEY).orElse(null), request);
            } catch (ShimException e) {
                throw new TtrpcException(e.code(), e.getMessage(), e);
            }
        });
    }
}
