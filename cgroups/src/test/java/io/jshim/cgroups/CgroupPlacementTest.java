package io.jshim.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.jshim.reaper.Child;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;

/** moveSelfTo / movePidTo on this v1 host, into cgroups created in every hierarchy. */
class CgroupPlacementTest {

    @BeforeAll
    static void v1Host() {
        assumeTrue(ScratchCgroups.v1Available(), "needs cgroup v1 hierarchies");
    }

    /** Every v1 hierarchy's directory for {@code path}, deepest first (for removal). */
    private static List<Path> dirsOf(String path) throws Exception {
        CgroupMounts mounts = CgroupMounts.read();
        return mounts.v1Hierarchies().stream()
                .flatMap(m -> List.of(CgroupMounts.join(m.mountPoint(), path), CgroupMounts.join(m.mountPoint(), path).getParent()).stream())
                .filter(d -> d.toString().contains("jshim-test-"))
                .sorted((a, b) -> b.getNameCount() - a.getNameCount())
                .toList();
    }

    private static void assertInEveryHierarchy(String procCgroup, String path) {
        List<String> v1Lines = procCgroup.lines().filter(l -> !l.startsWith("0::")).toList();
        assertTrue(v1Lines.size() >= 2, procCgroup);
        for (String line : v1Lines) {
            assertTrue(line.endsWith(":" + path), "not moved: " + line + "\n" + procCgroup);
        }
    }

    @Test
    void movePidToCreatesTheCgroupInEveryHierarchy() throws Exception {
        // nested and new: parents are created too, and a new cpuset gets its parent's CPUs and nodes
        String path = "/jshim-test-" + UUID.randomUUID().toString().substring(0, 8) + "/shim";
        Child sleeper = Reaper.get().spawn(SpawnSpec.of("/bin/sleep", "60").withKillOnParentDeath());
        try {
            Cgroup.movePidTo(sleeper.pid(), path);
            assertInEveryHierarchy(Files.readString(Path.of("/proc/" + sleeper.pid() + "/cgroup")), path);
            CgroupV1 found = assertInstanceOf(CgroupV1.class, Cgroup.forPid(sleeper.pid()));
            assertEquals(Path.of("/sys/fs/cgroup/memory" + path), found.dir("memory").orElseThrow());
            // moving again into the existing cgroup is fine
            Cgroup.movePidTo(sleeper.pid(), path);
        } finally {
            sleeper.kill(io.jshim.reaper.Posix.SIGKILL);
            sleeper.onExit().get();
            for (Path d : dirsOf(path)) {
                ScratchCgroups.removeDir(d);
            }
        }
    }

    @Test
    void moveSelfToMovesTheCallingProcess() throws Exception {
        String path = "/jshim-test-" + UUID.randomUUID().toString().substring(0, 8);
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try {
            CommandResult r = new Monitor(Reaper.get()).run(
                    SpawnSpec.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classPath,
                            MoveSelfMain.class.getName(), path),
                    new byte[0], Duration.ofSeconds(60));
            assertEquals(0, r.status(), r.stderrText());
            assertInEveryHierarchy(r.stdoutText(), path);
        } finally {
            for (Path d : dirsOf(path)) {
                ScratchCgroups.removeDir(d);
            }
        }
    }
}
