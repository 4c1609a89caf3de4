package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Child;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Posix;
import io.jshim.shim.cli.ShimAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jshim started by a real containerd 1.6 through ctr, exactly as users run it (issue 6). */
class ContainerdEndToEndTest {
    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static Path rootfs;
    static int seq;

    @BeforeAll
    static void setUp() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (containerd != null) {
            containerd.close();
        }
    }

    static synchronized String newId(String prefix) {
        return prefix + "-" + (++seq);
    }

    static String[] run(String id, String... rest) {
        return CtrTasks.run(rootfs, id, rest);
    }

    static int awaitStoppedAndDelete(String id) throws Exception {
        return CtrTasks.awaitStoppedAndDelete(containerd, id);
    }

    @Test
    void runReportsTheExitCodeAndOutput() throws Exception {
        String id = newId("run");
        CommandResult r = containerd.ctr(run(id, "--rm", "sh", "-c", "echo out-line; echo err-line >&2; exit 3"));
        assertEquals(3, r.status(), r.stderrText());
        assertEquals("out-line\n", r.stdoutText());
        assertEquals("err-line\n", r.stderrText());
        assertFalse(containerd.ctrOk("container", "ls", "-q").contains(id), "--rm removed the container");
    }

    @Test
    void stdinReachesTheContainer() throws Exception {
        String id = newId("stdin");
        // ctr calls CloseIO only for an EOF that comes after its Create returned, so the input ends once the task
        // runs, as it does when a person types it.
        String ctr = String.join(" ", containerd.ctrCommand());
        String feeder = "(until " + ctr + " task ls | grep -q '^" + id + " .*RUNNING'; do sleep 0.05; done;"
                + " printf 'piped through\\n')";
        CommandResult r = new io.jshim.reaper.Monitor(io.jshim.reaper.Reaper.get()).run(
                io.jshim.reaper.SpawnSpec.of("sh", "-c", feeder + " | " + ctr + " " + String.join(" ",
                        run(id, "--rm", "cat"))), null, Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stderrText());
        assertEquals("piped through\n", r.stdoutText());
    }

    @Test
    void ttyWorks() throws Exception {
        String id = newId("tty");
        String cmd = String.join(" ", containerd.ctrCommand()) + " " + String.join(" ", run(id, "--rm", "-t", "sh", "-c",
                "'sleep 1; tty; stty size'"));
        CommandResult r = new io.jshim.reaper.Monitor(io.jshim.reaper.Reaper.get()).run(
                io.jshim.reaper.SpawnSpec.of("script", "-qec", "stty cols 91 rows 33; " + cmd, "/dev/null"),
                null, Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stdoutText() + r.stderrText());
        assertTrue(r.stdoutText().contains("/dev/pts/"), r.stdoutText());
        assertTrue(r.stdoutText().contains("33 91"), r.stdoutText());
    }

    @Test
    void execKillPsPauseAndTheEventSequence() throws Exception {
        String id = newId("life");
        Path events = dir.resolve(id + "-events.txt");
        Child watcher = containerd.ctrBackground(events, "events");
        try {
            Thread.sleep(300); // ctr events subscribes asynchronously
            containerd.ctrOk(run(id, "-d", "sh", "-c", "trap '' TERM; while true; do sleep 1; done"));
            CommandResult exec = containerd.ctr("task", "exec", "--exec-id", "e1", id, "sh", "-c", "exit 6");
            assertEquals(6, exec.status(), exec.stderrText());
            String ps = containerd.ctrOk("task", "ps", id);
            assertTrue(ps.lines().count() >= 2, ps);
            containerd.ctrOk("task", "pause", id);
            assertTrue(containerd.ctrOk("task", "ls").contains("PAUSED"));
            containerd.ctrOk("task", "resume", id);
            assertTrue(containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.contains(id) && l.contains("RUNNING")));
            containerd.ctrOk("task", "kill", id); // SIGTERM: trapped
            Thread.sleep(500);
            assertTrue(containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.contains(id) && l.contains("RUNNING")));
            containerd.ctrOk("task", "kill", "-s", "KILL", id);
            assertEquals(137, awaitStoppedAndDelete(id));
            containerd.ctrOk("container", "rm", id);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            List<String> topics = List.of();
            while (System.nanoTime() < deadline) {
                topics = Files.readAllLines(events).stream().filter(l -> l.contains(id))
                        .map(l -> Stream.of(l.split(" ")).filter(w -> w.startsWith("/tasks/")).findFirst().orElse(""))
                        .filter(t -> !t.isEmpty()).toList();
                if (topics.contains("/tasks/delete")) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
                    "/tasks/exit", "/tasks/paused", "/tasks/resumed", "/tasks/exit", "/tasks/delete"), topics);
        } finally {
            Posix.kill(watcher.pid(), 9);
        }
    }

    @Test
    void twentyContainersInParallelEachWithAnExec() throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String id = newId("par");
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    containerd.ctrOk(run(id, "-d", "sleep", "1000"));
                    CommandResult e = containerd.ctr("task", "exec", "--exec-id", "x", id, "sh", "-c", "exit 5");
                    assertEquals(5, e.status(), e.stderrText());
                    containerd.ctrOk("task", "kill", "-s", "KILL", id);
                    assertEquals(137, awaitStoppedAndDelete(id));
                    containerd.ctrOk("container", "rm", id);
                } catch (Exception ex) {
                    throw new RuntimeException(ex);
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
    }

    @Test
    void containerdRestartedWhileAContainerRunsAndWhileItExits() throws Exception {
        String id = newId("restart");
        containerd.ctrOk(run(id, "-d", "sh", "-c", "sleep 3; exit 4"));
        containerd.stop();
        Thread.sleep(4000); // the container exits while containerd is away
        containerd.launch();
        assertEquals(4, awaitStoppedAndDelete(id), "the exit that happened while containerd was away");
        containerd.ctrOk("container", "rm", id);

        String id2 = newId("restart-running");
        containerd.ctrOk(run(id2, "-d", "sleep", "1000"));
        containerd.stop();
        containerd.launch();
        containerd.ctrOk("task", "kill", "-s", "KILL", id2);
        assertEquals(137, awaitStoppedAndDelete(id2));
        containerd.ctrOk("container", "rm", id2);
    }

    @Test
    void theSocketAddressIsTheReferenceShims() throws Exception {
        String id = newId("addr");
        containerd.ctrOk("run", "--runtime", "io.containerd.runc.v2", "--rootfs", "--env", "PATH=/bin", "-d",
                rootfs.toString(), id, "sleep", "1000");
        try {
            Path bundle = containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace()).resolve(id);
            String reference = Files.readString(bundle.resolve("address"));
            assertEquals(reference, ShimAddress.address(ShimAddress.SOCKET_DIR, containerd.socket().toString(), containerd.namespace(), id));
        } finally {
            containerd.ctr("task", "kill", "-s", "KILL", id);
            awaitStoppedAndDelete(id);
            containerd.ctr("container", "rm", id);
        }
    }

    /**
     * Containers of one new group started at once (a pod's containers): one cold start wins the group's lock and
     * starts the daemon, the others wait and join it; all share one shim, and no lock file stays behind.
     */
    @Test
    void containersOfOneGroupStartedAtOnceShareOneShim() throws Exception {
        String group = newId("pod");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(newId("member"));
        }
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (String id : ids) {
            starts.add(CompletableFuture.runAsync(() -> {
                try {
                    containerd.ctrOk(run(id, "-d", "--annotation", "io.containerd.runc.v2.group=" + group, "sleep",
                            "1000"));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        try {
            CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            Path tasks = containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace());
            java.util.Set<String> addresses = new java.util.HashSet<>();
            List<String> shimPids = new ArrayList<>(); // written by the start that started a daemon, as Go's does
            for (String id : ids) {
                addresses.add(Files.readString(tasks.resolve(id).resolve("address")));
                Path pidFile = tasks.resolve(id).resolve("shim.pid");
                if (Files.exists(pidFile)) {
                    shimPids.add(Files.readString(pidFile).trim());
                }
            }
            assertEquals(1, addresses.size(), "one group address: " + addresses);
            assertEquals(1, shimPids.size(), "one daemon started: " + shimPids);
            assertTrue(Files.exists(Path.of("/proc", shimPids.getFirst())), "the group's shim runs");
            String address = addresses.iterator().next();
            Path lock = Path.of("/run/jshim/groups",
                    Path.of(address.substring("unix://".length())).getFileName() + ".lock");
            assertFalse(Files.exists(lock), "start's lock file removed: " + lock);
        } finally {
            for (String id : ids) {
                containerd.ctr("task", "kill", "-s", "KILL", id);
                awaitStoppedAndDelete(id);
                containerd.ctr("container", "rm", id);
            }
        }
    }

    @Test
    void nothingIsLeftBehind() throws Exception {
        String id = newId("clean");
        containerd.ctrOk(run(id, "--rm", "true"));
        Path bundle = containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace()).resolve(id);
        assertFalse(Files.exists(bundle), "bundle removed");
        // no shim of this container is left: its socket is gone
        String address = ShimAddress.address(ShimAddress.SOCKET_DIR, containerd.socket().toString(), containerd.namespace(), id);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(Path.of(address.substring("unix://".length()))) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertFalse(Files.exists(Path.of(address.substring("unix://".length()))), "shim socket removed");
        // nor the lock file of the group's cold start (scripts/launcher.sh)
        Path lock = Path.of("/run/jshim/groups", Path.of(address.substring("unix://".length())).getFileName() + ".lock");
        assertFalse(Files.exists(lock), "start's lock file removed: " + lock);
    }
}
