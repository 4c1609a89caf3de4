package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.CommandResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What containerd 2.x does with a gRPC shim (issue 22), shown rather than claimed: start answers version 3 over
 * grpc with the socket's bare path, the form containerd dials for gRPC; containerd connects to it, and drops the
 * connection at once ("shim disconnected"), cleans the shim up, and the task create fails. So no containerd
 * 2.0-2.3.4 can run containers on a gRPC shim; ttrpc is what containerd uses.
 */
@Tag("containerd2")
class Containerd2GrpcTest {
    @TempDir
    Path dir;

    @Test
    void containerdDialsTheBarePathAndDropsTheConnection() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        try (PrivateContainerd containerd = PrivateContainerd.start(ContainerdRelease.containerd2(), dir.resolve("cd"),
                Map.of("JSHIM_PROTOCOL", "grpc"), bin.toString())) {
            String id = "grpc-1";
            CommandResult r = containerd.ctr(CtrTasks.run(rootfs, id, "-d", "sleep", "1000"));
            assertNotEquals(0, r.status(), "containerd 2.x cannot keep a gRPC shim");
            List<String> log = containerd.log().lines().toList();
            int connecting = indexOf(log, "msg=\"connecting to shim " + id + "\"");
            assertTrue(connecting >= 0, "containerd dialled the shim: " + String.join("\n", log));
            String line = log.get(connecting);
            assertTrue(line.contains("address=/run/containerd/s/") && line.contains("protocol=grpc")
                    && line.contains("version=3"), "the bare path over grpc, version 3: " + line);
            int dropped = indexOf(log, "msg=\"shim disconnected\" id=" + id);
            assertTrue(dropped > connecting, "and dropped it: " + String.join("\n", log.subList(connecting,
                    log.size())));
            assertFalse(containerd.ctrOk("task", "ls").contains(id), "no task left");
            containerd.ctr("container", "rm", id);
        }
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }
}
