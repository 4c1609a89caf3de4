package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.CommandResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jshim under a real containerd 2.x (the release {@code make test-containerd2} unpacks, config version 3), through
 * its own ctr, as a user runs it (issue 22): start with BootstrapParams answered with version 3, -info answered,
 * the task lifecycle and its events, metrics, a containerd restart, a group sharing one shim, and a pod's later
 * containers sent straight to the pod's shim without {@code start}.
 */
@Tag("containerd2")
class Containerd2EndToEndTest {
    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static Path rootfs;
    static int seq;

    @BeforeAll
    static void setUp() throws Exception {
        ContainerdRelease release = ContainerdRelease.containerd2();
        Path bin = InstalledShim.install(dir.resolve("install"));
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        containerd = PrivateContainerd.start(release, dir.resolve("cd"),
                java.util.Map.of("JSHIM_LAUNCH_LOG", launchLog().toString()), bin.toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (containerd != null) {
            containerd.close();
        }
    }

    /** The launcher's line for each JVM it execs and each start it answers itself (JSHIM_LAUNCH_LOG). */
    static Path launchLog() {
        return dir.resolve("launch.log");
    }

    static synchronized String newId(String prefix) {
        return prefix + "-" + (++seq);
    }

    static String[] run(String id, String... rest) {
        return CtrTasks.run(rootfs, id, rest);
    }

    static Path bundle(String id) {
        return containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace()).resolve(id);
    }

    static void killAndRemove(String id) throws Exception {
        containerd.ctr("task", "kill", "-s", "KILL", id);
        CtrTasks.awaitStoppedAndDelete(containerd, id);
        containerd.ctr("container", "rm", id);
    }

    @Test
    void runAnswersVersion3AndInfoWithoutAnError() throws Exception {
        String id = newId("run");
        CommandResult r = containerd.ctr(run(id, "--rm", "sh", "-c", "echo out-line; echo err-line >&2; exit 3"));
        assertEquals(3, r.status(), r.stderrText());
        assertEquals("out-line\n", r.stdoutText());
        assertEquals("err-line\n", ContainerdRelease.stderr(r));

        String id2 = newId("bootstrap");
        containerd.ctrOk(run(id2, "-d", "sleep", "1000"));
        try {
            String bootstrap = Files.readString(bundle(id2).resolve("bootstrap.json"));
            assertTrue(bootstrap.contains("\"version\":3") && bootstrap.contains("\"protocol\":\"ttrpc\"")
                    && bootstrap.contains("\"address\":\"unix:///run/containerd/s/"), bootstrap);
        } finally {
            killAndRemove(id2);
        }
        String log = containerd.log();
        assertTrue(log.contains("msg=\"loaded shim info\" shim=" + CtrTasks.RUNTIME), "containerd read -info");
        assertFalse(log.contains("failed to load runtime info"), "no -info failure in containerd's log");
        assertTrue(log.lines().anyMatch(l -> l.contains("connecting to shim " + id2) && l.contains("version=3")),
                "task v3 over ttrpc");
    }

    @Test
    void execPausePsKillDeleteAndTheirEvents() throws Exception {
        String id = newId("life");
        try (CtrEvents events = CtrEvents.start(containerd, dir.resolve(id + "-events.txt"))) {
            containerd.ctrOk(run(id, "-d", "sh", "-c", "trap '' TERM; while true; do sleep 1; done"));
            CommandResult exec = containerd.ctr("task", "exec", "--exec-id", "e1", id, "sh", "-c", "exit 6");
            assertEquals(6, exec.status(), exec.stderrText());
            assertTrue(containerd.ctrOk("task", "ps", id).lines().count() >= 2);
            containerd.ctrOk("task", "pause", id);
            assertTrue(containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.startsWith(id + " ")
                    && l.contains("PAUSED")));
            containerd.ctrOk("task", "resume", id);
            containerd.ctrOk("task", "kill", "-s", "KILL", id);
            assertEquals(137, CtrTasks.awaitStoppedAndDelete(containerd, id));
            containerd.ctrOk("container", "rm", id);
            List<String> topics = List.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                topics = events.lines().stream().filter(l -> l.containerId().equals(id)).map(CtrEvents.Line::topic)
                        .filter(t -> t.startsWith("/tasks/")).toList();
                if (topics.contains("/tasks/delete")) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
                    "/tasks/exit", "/tasks/paused", "/tasks/resumed", "/tasks/exit", "/tasks/delete"), topics);
        }
    }

    @Test
    void metricsAreTheContainersCgroup() throws Exception {
        String id = newId("metrics");
        containerd.ctrOk(run(id, "-d", "sleep", "1000"));
        try {
            String m = containerd.ctrOk("task", "metrics", id);
            assertTrue(m.contains("pids.current") || m.contains("pids"), m);
            assertTrue(m.contains("memory"), m);
        } finally {
            killAndRemove(id);
        }
        CommandResult gone = containerd.ctr("task", "metrics", id);
        assertTrue(gone.status() != 0, "no metrics of a deleted task");
    }

    /**
     * containerd restarted while a container runs: it reconnects (task v3) and the task goes on. A task whose
     * processes all exited while containerd was away is removed at the restart as a "leaked shim process"
     * (containerd 2.x's ShimManager.loadShim asks the shim for Pids and cleans up a shim with none), the same as
     * with its runc shim: the shim is told to delete it and exits.
     */
    @Test
    void containerdRestartedWhileAContainerRunsAndAfterOneExited() throws Exception {
        String id = newId("restart-running");
        containerd.ctrOk(run(id, "-d", "sleep", "1000"));
        containerd.stop();
        containerd.launch();
        assertTrue(containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("RUNNING")));
        containerd.ctrOk("task", "kill", "-s", "KILL", id);
        assertEquals(137, CtrTasks.awaitStoppedAndDelete(containerd, id));
        containerd.ctrOk("container", "rm", id);

        String gone = newId("restart-exited");
        Path flag = rootfs.resolve("tmp").resolve(gone);
        containerd.ctrOk(run(gone, "-d", "sh", "-c", "until [ -e /tmp/" + gone + " ]; do sleep 0.1; done; exit 4"));
        int pid = Integer.parseInt(Files.readString(bundle(gone).resolve("init.pid")).trim());
        String shim = shimOf(gone);
        containerd.stop();
        Files.writeString(flag, "go"); // it exits while containerd is away
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.exists(Path.of("/proc", Integer.toString(pid))) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(Path.of("/proc", Integer.toString(pid))), "the container exited");
        containerd.launch();
        assertFalse(containerd.ctrOk("task", "ls").contains(gone), "no task left after the restart");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.exists(Path.of("/proc", shim)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(Path.of("/proc", shim)), "its shim exited");
        assertTrue(containerd.log().contains("msg=\"cleaning leaked shim process\" id=" + gone));
        containerd.ctrOk("container", "rm", gone);
    }

    /** The pid of the process that is the parent of container {@code id}'s init. */
    static String shimOf(String id) throws Exception {
        String pid = Files.readString(bundle(id).resolve("init.pid")).trim();
        return Files.readAllLines(Path.of("/proc", pid, "status")).stream().filter(l -> l.startsWith("PPid:"))
                .map(l -> l.substring(5).trim()).findFirst().orElseThrow();
    }

    @Test
    void containersOfOneGroupShareOneShim() throws Exception {
        String group = newId("group");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(newId("member"));
        }
        try {
            for (String id : ids) {
                containerd.ctrOk(run(id, "-d", "--annotation", "io.containerd.runc.v2.group=" + group, "sleep",
                        "1000"));
            }
            Set<String> addresses = new HashSet<>();
            for (String id : ids) {
                addresses.add(Files.readString(bundle(id).resolve("address")));
            }
            assertEquals(1, addresses.size(), "one group address: " + addresses);
            Set<String> shims = new HashSet<>();
            for (String id : ids) {
                shims.add(shimOf(id));
            }
            assertEquals(1, shims.size(), "every init is the child of one shim: " + shims);
        } finally {
            for (String id : ids) {
                killAndRemove(id);
            }
        }
    }

    /**
     * containerd 2.3's start carries BootstrapParams on stdin, and the launcher answers them itself: a group's
     * first container is a cold start through the prebound socket, the second joins the live daemon, and neither
     * start execs a JVM (the launcher logs each JVM it execs and each start it answers).
     */
    @Test
    void aGroupsStartsBootNoJvm() throws Exception {
        String group = newId("nojvm");
        List<String> ids = List.of(newId("nojvm-member"), newId("nojvm-member"));
        try {
            for (String id : ids) {
                containerd.ctrOk(run(id, "-d", "--annotation", "io.containerd.runc.v2.group=" + group, "sleep",
                        "1000"));
            }
            List<String> log = Files.readAllLines(launchLog());
            assertTrue(log.contains("shell start " + ids.get(0) + " cold"), String.join("\n", log));
            assertTrue(log.contains("shell start " + ids.get(1) + " join"), String.join("\n", log));
            for (String id : ids) {
                assertFalse(log.stream().anyMatch(l -> l.startsWith("jvm ") && l.contains(" -id " + id + " ")
                        && l.endsWith(" start")), "a JVM for the start of " + id + ":\n" + String.join("\n", log));
            }
            assertEquals(shimOf(ids.get(0)), shimOf(ids.get(1)), "one shim for the group");
            String bootstrap = Files.readString(bundle(ids.get(1)).resolve("bootstrap.json"));
            assertTrue(bootstrap.contains("\"version\":3") && bootstrap.contains("\"protocol\":\"ttrpc\""), bootstrap);
        } finally {
            for (String id : ids) {
                killAndRemove(id);
            }
        }
    }

    /**
     * A pod's later containers (containerd's sandbox path, as its CRI plugin takes for a pod): the first container
     * is started by {@code start}, which answers version 3; once the sandbox record exists, containerd sends the
     * next containers' Create straight to that shim's socket: no start, no address file, the bundle's
     * {@code sandbox} file written by containerd instead.
     */
    @Test
    void aPodsLaterContainersGoStraightToThePodsShim() throws Exception {
        String pod = newId("pod");
        List<String> later = List.of(newId("in-pod"), newId("in-pod"));
        try {
            containerd.ctrOk(run(pod, "-d", "--sandbox=" + pod, "sleep", "1000"));
            assertTrue(Files.exists(bundle(pod).resolve("address")), "the first container ran start");
            SandboxRecords.create(containerd, pod, CtrTasks.RUNTIME);
            for (String id : later) {
                containerd.ctrOk(run(id, "-d", "--sandbox=" + pod, "sleep", "1000"));
                assertFalse(Files.exists(bundle(id).resolve("address")), "no start for " + id);
                assertEquals(pod, Files.readString(bundle(id).resolve("sandbox")));
                CommandResult e = containerd.ctr("task", "exec", "--exec-id", "x", id, "sh", "-c", "exit 5");
                assertEquals(5, e.status(), ContainerdRelease.stderr(e));
            }
            String podShim = shimOf(pod);
            for (String id : later) {
                assertEquals(podShim, shimOf(id), "the pod's shim is the parent of " + id);
            }
            for (String id : later) {
                killAndRemove(id);
                assertFalse(Files.exists(bundle(id)), "bundle of " + id + " removed");
            }
            assertTrue(Files.exists(Path.of("/proc", podShim)), "the pod's shim still serves the pod");
        } catch (AssertionError | Exception e) {
            throw new AssertionError(e.getMessage() + "\ncontainerd's log:\n" + tail(containerd.log(), 60), e);
        } finally {
            for (String id : later) {
                containerd.ctr("task", "kill", "-s", "KILL", id);
            }
            containerd.ctr("task", "kill", "-s", "KILL", pod);
        }
    }

    static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
