package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Posix;
import io.jshim.test.Busybox;
import io.jshim.test.CtrEvents;
import io.jshim.test.CtrTasks;
import io.jshim.test.ImageArchive;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import io.jshim.test.ShimDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: the shim daemon is SIGKILLed while its containers run (issue 10). containerd sees the connection close
 * and runs {@code containerd-shim-jshim-v2 delete}: the exit it then reports must be the true one for a container
 * that had already exited (kept in the bundle's init.exit), the running container must be killed, and the
 * snapshot mounts the shim made must be gone.
 */
class ShimKillTest {
    static final String GROUP = "io.containerd.runc.v2.group";
    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static String image;

    @BeforeAll
    static void setUp() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString());
        image = ImageArchive.importInto(containerd, rootfs, dir.resolve("image"), "docker.io/jshim/faults:kill");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (containerd != null) {
            containerd.close();
        }
    }

    static String[] run(String id, String group, String... command) {
        List<String> a = new java.util.ArrayList<>(List.of("run", "-d", "--runtime", CtrTasks.RUNTIME,
                "--annotation", GROUP + "=" + group, image, id));
        a.addAll(List.of(command));
        return a.toArray(String[]::new);
    }

    static boolean mounted(Path where) throws Exception {
        String target = " " + where + " ";
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(target));
    }


    @Test
    void afterTheShimIsKilledDeleteReportsTheTrueExitAndUnmounts() throws Exception {
        String running = "kill-running";
        Path killedShimSocket = null;
        String exited = "kill-exited";
        try (CtrEvents events = CtrEvents.start(containerd, dir.resolve("events.txt"))) {
            containerd.ctrOk(run(running, "kill-group", "sleep", "1000"));
            containerd.ctrOk(run(exited, "kill-group", "sh", "-c", "exit 7"));
            Path runningBundle = ShimDaemon.bundleOf(containerd, running);
            Path exitedBundle = ShimDaemon.bundleOf(containerd, exited);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.startsWith(exited + " ") && l.contains("STOPPED"))) {
                assertTrue(System.nanoTime() < deadline, "the exiting container never stopped");
                Thread.sleep(50);
            }
            ShimDaemon shim = ShimDaemon.ofBundle(runningBundle);
            assertEquals(Files.readString(runningBundle.resolve("address")),
                    Files.readString(exitedBundle.resolve("address")), "both containers share one shim");
            int runningPid = Integer.parseInt(Files.readString(runningBundle.resolve("init.pid")).trim());
            assertTrue(Files.readString(exitedBundle.resolve("init.exit")).startsWith("7 "),
                    "the exit is recorded in the bundle before the kill");
            assertTrue(mounted(runningBundle.resolve("rootfs")) && mounted(exitedBundle.resolve("rootfs")),
                    "the shim mounted both snapshots");

            long t0 = System.nanoTime();
            Posix.kill(shim.pid(), 9);
            killedShimSocket = shim.socket(); // a killed shim leaves its socket file: removed below
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.startsWith(running + " ") || l.startsWith(exited + " "))) {
                assertTrue(System.nanoTime() < deadline, "containerd never cleaned up after the dead shim:\n"
                        + containerd.ctrOk("task", "ls"));
                Thread.sleep(50);
            }
            long recoveredMs = (System.nanoTime() - t0) / 1_000_000;
            // containerd publishes its synthetic exit just before the delete; wait for both deletes
            while (events.of(running).stream().noneMatch(l -> l.topic().equals("/tasks/delete"))
                    || events.of(exited).stream().noneMatch(l -> l.topic().equals("/tasks/delete"))) {
                assertTrue(System.nanoTime() < deadline, "no /tasks/delete: " + events.lines());
                Thread.sleep(50);
            }
            List<CtrEvents.Line> exitedExits = events.of(exited).stream().filter(l -> l.topic().equals("/tasks/exit")).toList();
            List<CtrEvents.Line> runningExits = events.of(running).stream().filter(l -> l.topic().equals("/tasks/exit")).toList();
            System.out.printf("shim kill: containerd cleaned up %d ms after SIGKILL; exits of the exited container %s,"
                            + " of the running one %s%n", recoveredMs,
                    exitedExits.stream().map(CtrEvents.Line::exitStatus).toList(),
                    runningExits.stream().map(CtrEvents.Line::exitStatus).toList());
            assertFalse(exitedExits.isEmpty());
            for (CtrEvents.Line l : exitedExits) {
                assertEquals(7, l.exitStatus(), "every exit of the container that had exited says 7: " + l);
            }
            assertEquals(137, runningExits.getLast().exitStatus(), "the running container was killed: " + runningExits);
            assertFalse(ShimDaemon.alive(runningPid), "the running container's init is gone");
            assertFalse(shim.alive());
            assertFalse(mounted(runningBundle.resolve("rootfs")), "rootfs of " + running + " unmounted");
            assertFalse(mounted(exitedBundle.resolve("rootfs")), "rootfs of " + exited + " unmounted");
            assertFalse(Files.exists(runningBundle) || Files.exists(exitedBundle), "bundles removed");
        } finally {
            if (killedShimSocket != null) {
                Files.deleteIfExists(killedShimSocket);
            }
            containerd.ctr("task", "kill", "-s", "KILL", running);
            containerd.ctr("task", "delete", running);
            containerd.ctr("task", "delete", exited);
            containerd.ctr("container", "rm", running);
            containerd.ctr("container", "rm", exited);
        }
    }
}
