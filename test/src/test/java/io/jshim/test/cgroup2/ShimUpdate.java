package io.jshim.test.cgroup2;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.task.UpdateTaskRequest;
import io.jshim.test.PrivateContainerd;
import io.jshim.test.ShimHarness;
import io.jshim.ttrpc.TtrpcClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Task.Update on a container's shim, as containerd's Tasks.Update forwards it (ctr 1.6 has no "task update"). */
final class ShimUpdate {
    private ShimUpdate() {}

    static void update(PrivateContainerd containerd, String id, String linuxResourcesJson) throws Exception {
        String address = Files.readString(containerd.state().resolve("io.containerd.runtime.v2.task")
                .resolve(containerd.namespace()).resolve(id).resolve("address"));
        try (TtrpcClient shim = TtrpcClient.connect(Path.of(address.substring("unix://".length())),
                Duration.ofSeconds(30))) {
            shim.call(ShimHarness.V2, "Update", UpdateTaskRequest.newBuilder().setId(id)
                            .setResources(Any.newBuilder()
                                    .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources")
                                    .setValue(Bytes.copyFromUtf8(linuxResourcesJson)))
                            .build(),
                    Empty.parser(), Duration.ofSeconds(60), Map.of("containerd-namespace-ttrpc", containerd.namespace()));
        }
    }
}
