package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.runc.Options;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.ttrpc.TtrpcClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code Options.shim_cgroup}: {@code start} puts the shim daemon into that cgroup, as the reference does (issue 7). */
class ShimCgroupTest {
    @TempDir
    Path dir;

    @Test
    void startPlacesTheDaemonInTheShimCgroup() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        String cgroup = "/jshim-test-shim-" + ProcessHandle.current().pid();
        String namespace = "jshim-cg-" + ProcessHandle.current().pid();
        Any options = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(Options.newBuilder().setShimCgroup(cgroup).build().toByteString()).build();
        // containerd 1.6 writes the marshalled runtime options Any on start's stdin
        CommandResult start = new Monitor(Reaper.get()).run(SpawnSpec.of(
                        bin.resolve("containerd-shim-jshim-v2").toString(), "-namespace", namespace, "-id", "cg-1",
                        "-address", dir.resolve("no-containerd.sock").toString(), "start")
                .withWorkDir(bundle), options.toByteArray(), Duration.ofSeconds(120));
        assertEquals(0, start.status(), start.stderrText());
        assertEquals("", start.stderrText(), "start prints nothing on stderr");
        String address = start.stdoutText();
        int daemon;
        try (TtrpcClient shim = TtrpcClient.connect(Path.of(address.substring("unix://".length())),
                Duration.ofSeconds(10))) {
            Map<String, String> md = Map.of("containerd-namespace-ttrpc", namespace);
            daemon = shim.call(ShimHarness.V2, "Connect", ConnectRequest.newBuilder().setId("cg-1").build(),
                    ConnectResponse.parser(), Duration.ofSeconds(120), md).getShimPid();
            try {
                List<String> memberships = Files.readAllLines(Path.of("/proc/" + daemon + "/cgroup"));
                List<String> inShimCgroup = memberships.stream().filter(l -> l.endsWith(":" + cgroup)).toList();
                assertTrue(inShimCgroup.stream().anyMatch(l -> l.contains("memory")), memberships.toString());
                assertTrue(inShimCgroup.stream().anyMatch(l -> l.contains("pids")), memberships.toString());
            } finally {
                shim.call(ShimHarness.V2, "Shutdown", ShutdownRequest.newBuilder().setId("cg-1").build(),
                        io.jshim.proto.wkt.Empty.parser(), Duration.ofSeconds(30), md);
            }
        }
        awaitGone(daemon);
        removeCgroup(cgroup);
    }

    private static void awaitGone(int pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.exists(Path.of("/proc/" + pid)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (Files.exists(Path.of("/proc/" + pid))) {
            Posix.kill(pid, 9);
            throw new AssertionError("the shim did not exit after Shutdown");
        }
    }

    /** rmdir the test's cgroup in every v1 hierarchy (or the unified one); it is empty once the shim is gone. */
    private static void removeCgroup(String cgroup) throws Exception {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Files.deleteIfExists(Path.of(h + cgroup));
            }
        }
        Files.deleteIfExists(Path.of("/sys/fs/cgroup" + cgroup));
    }
}
