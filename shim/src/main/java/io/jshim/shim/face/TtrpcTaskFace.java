package io.jshim.shim.face;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.shim.CallTally;
import io.jshim.shim.ShimException;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.Execution;
import io.jshim.ttrpc.TtrpcException;
import io.jshim.ttrpc.TtrpcServer;
import java.util.List;

/**
 * The Task API over ttrpc: registers the methods of {@link TaskMethods} under {@code containerd.task.v2.Task}
 * (containerd 1.6/1.7, 2.0-2.2) and, through {@link TtrpcTaskV3Face}, {@code containerd.task.v3.Task}
 * (containerd 2.3+, to which start answers version 3). The namespace comes from the
 * {@code containerd-namespace-ttrpc} metadata.
 */
public final class TtrpcTaskFace {
    public static final List<String> SERVICES = TaskMethods.SERVICES;
    static final String SERVICE = "containerd.task.v2.Task";
    static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    /** The method names in the order of {@link #CALLS}' names (v2 and v3 calls are counted together). */
    private static final List<String> METHOD_NAMES = List.of("State", "Create", "Start", "Delete", "Pids", "Pause",
            "Resume", "Checkpoint", "Kill", "Exec", "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect",
            "Shutdown");
    /** Every Task API call answered over ttrpc by this process, by method and status code (outcome = code value). */
    public static final CallTally CALLS = new CallTally(METHOD_NAMES, Code.values().length);

    private TtrpcTaskFace() {}

    public static TtrpcServer.Builder register(TtrpcServer.Builder b, TaskService t) {
        List<TaskMethod<?, ?>> methods = TaskMethods.of(t);
        for (TaskMethod<?, ?> m : methods) {
            register(b, SERVICE, m);
        }
        TtrpcTaskV3Face.register(b, methods);
        return b;
    }

    static <Req extends ProtoMessage, Resp extends ProtoMessage> void register(TtrpcServer.Builder b, String service,
            TaskMethod<Req, Resp> m) {
        Execution where = m.neverBlocks() ? Execution.EVENT_LOOP : Execution.VIRTUAL_THREAD;
        int index = METHOD_NAMES.indexOf(m.name());
        if (index < 0) {
            throw new IllegalStateException("no call counter for Task method " + m.name());
        }
        b.register(service, m.name(), where, m.parser(), (ctx, request) -> {
            long start = System.nanoTime();
            Code code = Code.UNKNOWN; // a handler bug: the dispatcher answers UNKNOWN
            try {
                Resp response = m.invoke(ctx.metadataValue(NAMESPACE_KEY).orElse(null), request);
                code = Code.OK;
                return response;
            } catch (ShimException e) {
                code = e.code();
                throw new TtrpcException(e.code(), e.getMessage(), e);
            } finally {
                CALLS.record(index, code.value(), System.nanoTime() - start);
            }
        });
    }
}
