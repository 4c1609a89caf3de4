package io.jshim.shim.face;

import io.jshim.ttrpc.TtrpcServer;
import java.util.List;

/**
 * The Task API as {@code containerd.task.v3.Task} over ttrpc: what containerd 2.x calls on a shim whose start
 * answered version 3 (containerd's core/runtime/v2 bridge), with the messages of v2 byte for byte. Version 3 also
 * lets containerd 2.x send the Create of a pod's later containers straight to the pod's socket, without running
 * {@code start}: the Task service takes any container on any connection. v3's optional {@code Events} stream is
 * not served (containerd uses it only when the start reply lists the event-streaming capability, which jshim's
 * does not); a call to it is answered Unimplemented as any unknown method is.
 */
public final class TtrpcTaskV3Face {
    public static final String SERVICE = "containerd.task.v3.Task";

    private TtrpcTaskV3Face() {}

    static void register(TtrpcServer.Builder b, List<TaskMethod<?, ?>> methods) {
        for (TaskMethod<?, ?> m : methods) {
            TtrpcTaskFace.register(b, SERVICE, m);
        }
    }
}
