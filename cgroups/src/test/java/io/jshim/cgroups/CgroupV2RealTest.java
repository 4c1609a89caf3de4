package io.jshim.cgroups;

import static io.jshim.cgroups.CgroupV1StatsTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jshim.proto.cgroups.v2.Metrics;
import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;

/**
 * What the host's real cgroup2 mount can show: the core cpu.stat every cgroup2 directory has,
 * cgroup.events, and deletion. (Its only controller is hugetlb, not enabled below the root, so
 * no memory.* here: the OOM and memory paths are covered by CgroupV2LayoutTest.)
 */
class CgroupV2RealTest {

    @Test
    void cpuUsageAndDeletionOnARealCgroup2(@TempDir Path tmp) throws Exception {
        Path mount = CgroupMounts.read().unifiedMount().map(CgroupMounts.Mount::mountPoint).orElse(null);
        assumeTrue(mount != null, "no cgroup2 mount");
        Path dir = Files.createDirectory(mount.resolve("jshim-test-" + UUID.randomUUID().toString().substring(0, 8)));
        Path ready = tmp.resolve("ready");
        Child child = null;
        try {
            child = Reaper.get().spawn(SpawnSpec.of("/bin/sh", "-c",
                    "echo $$ > " + dir.resolve("cgroup.procs") + " || exit 90; "
                            + "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; : > " + ready + "; exec sleep 60")
                    .withKillOnParentDeath());
            Child c = child;
            waitFor(() -> Files.exists(ready) || c.onExit().isDone(), Duration.ofSeconds(20));
            assertFalse(child.onExit().isDone(), "child exited: " + child.onExit().getNow(null));

            CgroupV2 cgroup = new CgroupV2(dir);
            Metrics m = cgroup.metrics();
            assertTrue(m.getCpu().getUsageUsec() > 50_000, m.getCpu().toString());
            assertTrue(m.getCpu().getUserUsec() + m.getCpu().getSystemUsec() > 0, m.getCpu().toString());
            assertEquals("populated 1", Files.readAllLines(dir.resolve("cgroup.events")).getFirst());
            assertThrows(NoSuchFileException.class, () -> {
                try (OomWatcher w = new OomWatcher()) {
                    w.watch(cgroup, () -> { });
                }
            }, "no memory controller, no memory.events");

            Posix.kill(child.pid(), Posix.SIGKILL);
            child.onExit().get(10, TimeUnit.SECONDS);
            ScratchCgroups.removeDir(dir);
            assertFalse(cgroup.exists());
            assertThrows(CgroupGoneException.class, cgroup::stats);
        } finally {
            if (child != null && !child.onExit().isDone()) {
                Posix.kill(child.pid(), Posix.SIGKILL);
                child.onExit().get(10, TimeUnit.SECONDS);
            }
            ScratchCgroups.removeDir(dir);
        }
    }
}
