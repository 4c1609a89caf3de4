package io.jshim.test.cgroup2;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.runc.Options;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.test.ShimHarness;
import io.jshim.ttrpc.TtrpcClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * {@code Options.shim_cgroup} with a v2 path: {@code start} (given the options on stdin, as containerd 1.6 does;
 * ctr has no flag for it) puts the daemon into that cgroup of the unified hierarchy, creating it.
 */
final class ShimCgroupCheck {
    private final Path bin;
    private final Path work;

    ShimCgroupCheck(Path bin, Path work) {
        this.bin = bin;
        this.work = work;
    }

    String run() throws Exception {
        Path bundle = Files.createDirectories(work.resolve("shim-cgroup-bundle"));
        String cgroup = "/jshim-guest/shims";
        String namespace = "jshim-guest-cg";
        Any options = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(Options.newBuilder().setShimCgroup(cgroup).build().toByteString()).build();
        CommandResult start = new Monitor(Reaper.get()).run(SpawnSpec.of(
                        bin.resolve("containerd-shim-jshim-v2").toString(), "-namespace", namespace, "-id", "cg-1",
                        "-address", work.resolve("no-containerd.sock").toString(), "start")
                .withWorkDir(bundle), options.toByteArray(), Duration.ofSeconds(120));
        GuestBase.require(start.status() == 0, "start: " + start.stderrText());
        String address = start.stdoutText();
        Map<String, String> md = Map.of("containerd-namespace-ttrpc", namespace);
        try (TtrpcClient shim = TtrpcClient.connect(Path.of(address.substring("unix://".length())),
                Duration.ofSeconds(30))) {
            int daemon = shim.call(ShimHarness.V2, "Connect", ConnectRequest.newBuilder().setId("cg-1").build(),
                    ConnectResponse.parser(), Duration.ofSeconds(60), md).getShimPid();
            try {
                String in = GuestBase.unifiedPath(daemon);
                GuestBase.require(in.equals(cgroup), "daemon " + daemon + " in " + in + ", not " + cgroup);
                String procs = Files.readString(GuestBase.CGROUP_ROOT.resolve("jshim-guest/shims/cgroup.procs"));
                GuestBase.require(procs.lines().anyMatch(l -> l.equals(Integer.toString(daemon))),
                        "cgroup.procs of " + cgroup + ": " + procs);
                return "daemon " + daemon + " in 0::" + in;
            } finally {
                shim.call(ShimHarness.V2, "Shutdown", ShutdownRequest.newBuilder().setId("cg-1").build(),
                        Empty.parser(), Duration.ofSeconds(60), md);
                GuestBase.await("the daemon exits", 60, () -> !Files.exists(Path.of("/proc/" + daemon)));
                GuestBase.rmdirQuietly(GuestBase.CGROUP_ROOT.resolve("jshim-guest/shims"));
                GuestBase.rmdirQuietly(GuestBase.CGROUP_ROOT.resolve("jshim-guest"));
            }
        }
    }
}
