package io.jshim.test.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.shim.cli.LogSetup;
import io.jshim.shim.grpc.GrpcShimServer;
import io.jshim.shim.grpc.GrpcTaskFace;
import io.jshim.test.PromExposition;
import io.jshim.ttrpc.TtrpcServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jshim.metrics.v1.Metrics/Get} on the gRPC socket: the daemon's text, with the Task calls made over gRPC
 * counted and the event stream's subscribers; a peer of another user gets nothing, as on ttrpc.
 */
class GrpcMetricsTest {

    @Test
    void metricsGetAnswersSameUserPeersOnly(@TempDir Path dir) throws Exception {
        LogSetup.toStderr(false);
        try (GrpcRig rig = new GrpcRig(dir)) {
            GrpcShimServer mine = new GrpcShimServer(rig.tasks, rig.hub,
                    TtrpcServer.sameUserAs(TtrpcServer.effectiveUid()), rig.queue, null);
            // the same server, admitting only another user: this test's process is not one
            GrpcShimServer others = new GrpcShimServer(rig.tasks, rig.hub,
                    TtrpcServer.sameUserAs(TtrpcServer.effectiveUid() + 4242), rig.queue, null);
            Path mineSocket = dir.resolve("metrics.sock");
            Path othersSocket = dir.resolve("others.sock");
            mine.bind(mineSocket);
            others.bind(othersSocket);
            ManagedChannel channel = GrpcRig.channel(mineSocket);
            ManagedChannel refused = GrpcRig.channel(othersSocket);
            try {
                ConnectResponse c = ClientCalls.blockingUnaryCall(channel, GrpcTaskFace.descriptor(
                        "containerd.task.v3.Task", "Connect", ConnectRequest.getDefaultInstance(),
                        ConnectResponse.getDefaultInstance()), options(), ConnectRequest.newBuilder().setId("x")
                        .build());
                assertTrue(c.getShimPid() > 0);
                GetResponse r = ClientCalls.blockingUnaryCall(channel, get(), options(),
                        GetRequest.getDefaultInstance());
                PromExposition m = PromExposition.parse(r.getText());
                Map<String, String> ns = Map.of("namespace", GrpcRig.NAMESPACE);
                assertEquals(1, m.value("jshim_info", Map.of("namespace", GrpcRig.NAMESPACE, "version",
                        io.jshim.shim.cli.Main.VERSION)), r.getText());
                assertFalse(m.find("jshim_task_requests_total", Map.of("namespace", GrpcRig.NAMESPACE, "method",
                        "Connect", "code", "OK")).isEmpty(), "a Task call over gRPC is counted:\n" + r.getText());
                assertEquals(0, m.value("jshim_event_subscribers", ns), r.getText());
                assertEquals(0, m.value("jshim_containers", Map.of("namespace", GrpcRig.NAMESPACE, "state",
                        "running")), r.getText());

                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(refused, get(), options(),
                                GetRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
            } finally {
                channel.shutdownNow();
                refused.shutdownNow();
                mine.shutdown(Duration.ofSeconds(2)).get(10, TimeUnit.SECONDS);
                others.shutdown(Duration.ofSeconds(2)).get(10, TimeUnit.SECONDS);
            }
        }
    }

    private static io.grpc.MethodDescriptor<GetRequest, GetResponse> get() {
        return GrpcTaskFace.descriptor("jshim.metrics.v1.Metrics", "Get", GetRequest.getDefaultInstance(),
                GetResponse.getDefaultInstance());
    }

    private static CallOptions options() {
        return CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
    }
}
