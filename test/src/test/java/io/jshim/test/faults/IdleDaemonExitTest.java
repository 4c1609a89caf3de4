package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Child;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.task.IdleExit;
import io.jshim.test.Busybox;
import io.jshim.test.CtrEvents;
import io.jshim.test.CtrTasks;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import io.jshim.test.ShimDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No daemon outlives its containers (issue 21). The client of {@code ctr task delete} is killed at points of the
 * call chosen by events (a runc that holds the shim's {@code runc delete} until released, the shim's log lines in
 * containerd's log); afterwards, within the grace period plus a bound, no daemon, bundle or cgroup is left, the
 * same id runs again, and a subscriber saw only the true exit status. A daemon that never gets a Create exits
 * after the grace period too; a group's daemon that still holds a container does not.
 */
class IdleDaemonExitTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    static final Duration GRACE = Duration.ofSeconds(3);
    /** containerd's dead-shim clean-up and a JVM's exit, on two busy cores. */
    static final Duration BOUND = Duration.ofSeconds(30);
    static final int EXIT = 7;
    @TempDir
    static Path dir;
    static Path bin;
    static Path rootfs;
    static Path holds;
    static PrivateContainerd containerd;
    static CtrEvents events;

    /** Where the deleting client is killed. */
    enum Point {
        /** as it starts, before it reaches containerd: the shim gets no Delete */
        AT_SPAWN,
        /** while the shim's Delete runs (its runc delete is held until the client is dead) */
        IN_SHIM_DELETE,
        /** as the shim's Delete ends: killed the moment its held runc delete is released (races its answer) */
        AT_SHIM_DELETE_END,
        /** once the shim's Delete is over (its runc delete released, its TaskDelete seen by a subscriber) */
        AFTER_SHIM_DELETE,
        /** once the shim has logged containerd's Shutdown */
        AFTER_SHUTDOWN
    }

    @BeforeAll
    static void setUp() throws Exception {
        bin = InstalledShim.install(dir.resolve("install"));
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        holds = Files.createDirectories(dir.resolve("holds"));
        Path wrap = Files.createDirectories(dir.resolve("wrap"));
        Path runc = wrap.resolve("runc");
        // The first delete of a container that has a hold file says so and waits on a fifo: the test decides when
        // the shim's runc delete ends. Later deletes (containerd's clean-up runs one) pass straight through.
        Files.writeString(runc, """
                #!/bin/sh
                for last in "$@"; do :; done
                case " $* " in
                *" delete "*)
                    if mv "%1$s/$last.hold" "%1$s/$last.held" 2>/dev/null; then
                        : > "%1$s/$last.in-delete"
                        read -r _ < "%1$s/$last.release"
                    fi ;;
                esac
                exec %2$s "$@"
                """.formatted(holds, realRunc()));
        runc.toFile().setExecutable(true);
        containerd = PrivateContainerd.start(dir.resolve("cd"), Map.of(IdleExit.ENV, GRACE.toSeconds() + "s"),
                wrap.toString(), bin.toString());
        events = CtrEvents.start(containerd, dir.resolve("events.txt"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (events != null) {
            events.close();
        }
        if (containerd != null) {
            containerd.close();
        }
    }

    static String realRunc() throws Exception {
        for (String d : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(d, "runc"))) {
                return Path.of(d, "runc").toString();
            }
        }
        throw new IllegalStateException("no runc on PATH");
    }

    @Test
    void aKilledDeleteLeavesNoDaemonBundleOrCgroupAndTheIdRunsAgain() throws Exception {
        int rounds = FULL ? 5 : 1;
        List<String> report = new ArrayList<>();
        for (int n = 1; n <= rounds; n++) {
            for (Point p : Point.values()) {
                report.add(round(p, n));
            }
        }
        System.out.println("idle exit after a killed delete (grace " + GRACE.toMillis() + " ms):");
        report.forEach(l -> System.out.println("  " + l));
    }

    private static String round(Point point, int n) throws Exception {
        String id = "idle-" + point.name().toLowerCase().replace('_', '-') + "-" + n;
        containerd.ctrOk(CtrTasks.run(rootfs, id, "-d", "sh", "-c", "exit " + EXIT));
        awaitTrue(() -> taskLine(id).map(l -> l.contains("STOPPED")).orElse(false), BOUND, id + " never stopped");
        Path bundle = ShimDaemon.bundleOf(containerd, id);
        int daemon = Integer.parseInt(Files.readString(bundle.resolve("shim.pid")).trim());
        List<Path> cgroups = cgroupDirs(id);
        assertFalse(cgroups.isEmpty(), "the container's cgroups are where ctr puts them");
        boolean held = point == Point.IN_SHIM_DELETE || point == Point.AT_SHIM_DELETE_END
                || point == Point.AFTER_SHIM_DELETE;
        if (held) {
            Files.createFile(holds.resolve(id + ".hold"));
            Posix.mkfifo(holds.resolve(id + ".release").toString(), 0600);
        }
        Child client = containerd.ctrBackground(dir.resolve(id + "-delete.txt"), "task", "delete", id);
        long releasedAt = 0;
        switch (point) {
            case AT_SPAWN -> { }
            case IN_SHIM_DELETE -> awaitTrue(() -> Files.exists(holds.resolve(id + ".in-delete")), BOUND,
                    "the shim's runc delete of " + id + " never began");
            case AT_SHIM_DELETE_END -> {
                awaitTrue(() -> Files.exists(holds.resolve(id + ".in-delete")), BOUND, "no runc delete of " + id);
                releasedAt = release(id);
            }
            case AFTER_SHIM_DELETE -> {
                awaitTrue(() -> Files.exists(holds.resolve(id + ".in-delete")), BOUND, "no runc delete of " + id);
                releasedAt = release(id);
                awaitTrue(() -> events.of(id).stream().anyMatch(l -> l.topic().equals("/tasks/delete")), BOUND,
                        "the shim's TaskDelete of " + id + " never came");
            }
            case AFTER_SHUTDOWN -> awaitTrue(() -> containerd.log().contains("[" + id + "] Shutdown"), BOUND,
                    "the shim never logged a Shutdown for " + id);
        }
        boolean clientWasDone = client.onExit().isDone();
        client.kill(9);
        long killedAt = System.nanoTime();
        client.onExit().get(30, TimeUnit.SECONDS);
        if (point == Point.IN_SHIM_DELETE) {
            releasedAt = release(id);
        }
        // The client died before its Delete reached the shim, which still holds the task: the user's retry works.
        boolean retried = point == Point.AT_SPAWN;
        if (retried) {
            assertTrue(taskLine(id).map(l -> l.contains("STOPPED")).orElse(false), "the task is still there");
            CommandResult again = containerd.ctr("task", "delete", id);
            assertEquals(0, again.status(), point + ": the retried delete: " + again.stderrText());
        }
        long from = releasedAt != 0 ? releasedAt : killedAt;
        Optional<ProcessHandle> handle = ProcessHandle.of(daemon);
        if (handle.isPresent()) {
            handle.get().onExit().get(GRACE.plus(BOUND).toMillis(), TimeUnit.MILLISECONDS);
        }
        long livedMs = (System.nanoTime() - from) / 1_000_000;
        assertFalse(ShimDaemon.alive(daemon), point + ": daemon " + daemon + " still alive");
        awaitTrue(() -> taskLine(id).isEmpty(), BOUND, point + ": containerd still lists task " + id);
        awaitTrue(() -> !Files.exists(bundle), BOUND, point + ": bundle " + bundle + " left");
        for (Path cg : cgroups) {
            assertFalse(Files.exists(cg), point + ": cgroup " + cg + " left");
        }
        // every exit and delete a subscriber saw carries the true status (containerd's own after a dead shim too)
        awaitTrue(() -> events.of(id).stream().anyMatch(l -> l.topic().equals("/tasks/exit")), BOUND,
                point + ": no TaskExit for " + id);
        List<CtrEvents.Line> seen = events.of(id).stream()
                .filter(l -> l.topic().equals("/tasks/exit") || l.topic().equals("/tasks/delete")).toList();
        for (CtrEvents.Line l : seen) {
            assertEquals(EXIT, l.exitStatus(), point + ": " + l.topic() + " " + l.payload());
        }
        long exits = seen.stream().filter(l -> l.topic().equals("/tasks/exit")).count();
        boolean idleExit = exits > 1; // containerd's clean-up after the daemon's own exit published a second one
        if (point == Point.IN_SHIM_DELETE) {
            assertTrue(idleExit, "containerd never sent Shutdown, so the daemon ended by its grace period");
        }
        if (idleExit) {
            assertTrue(livedMs >= GRACE.toMillis() - 100, point + ": the daemon exited " + livedMs
                    + " ms after the last Delete, before its grace period");
        }
        // the same id runs again
        containerd.ctrOk("container", "rm", id);
        CommandResult rerun = containerd.ctr(CtrTasks.run(rootfs, id, "--rm", "sh", "-c", "exit 3"));
        assertEquals(3, rerun.status(), point + ": " + id + " again: " + rerun.stderrText());
        return "%s: client %s; %s; daemon gone %d ms after the %s; exits seen %s".formatted(point,
                clientWasDone ? "had already finished" : "killed mid-call",
                retried ? "the shim still held the task, a retried delete removed it"
                        : idleExit ? "ghost task cleared by the daemon's idle exit and containerd's clean-up"
                        : "containerd had shut the daemon down",
                livedMs, releasedAt != 0 ? "shim's Delete" : "kill", seen.stream()
                        .filter(l -> l.topic().equals("/tasks/exit")).map(CtrEvents.Line::exitStatus).toList());
    }

    @Test
    void aDaemonThatNeverGetsACreateExitsAfterTheGracePeriod() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("state-lonely"));
        Files.writeString(bundle.resolve("config.json"), "{}");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(IdleExit.ENV, GRACE.toSeconds() + "s");
        env.put("TTRPC_ADDRESS", containerd.ttrpcSocket().toString());
        long t0 = System.nanoTime();
        CommandResult start = new Monitor(Reaper.get()).run(SpawnSpec.of(bin.resolve("containerd-shim-jshim-v2")
                        .toString(), "-namespace", containerd.namespace(), "-address", containerd.socket().toString(),
                        "-publish-binary", "containerd", "-id", "lonely-" + ProcessHandle.current().pid(), "start")
                .withEnv(env).withWorkDir(bundle), null, Duration.ofSeconds(60));
        assertEquals(0, start.status(), start.stderrText());
        Path socket = Path.of(start.stdoutText().trim().substring("unix://".length()));
        int daemon = Integer.parseInt(Files.readString(bundle.resolve("shim.pid")).trim());
        try {
            ProcessHandle.of(daemon).ifPresent(h -> {
                try {
                    h.onExit().get(GRACE.plus(BOUND).toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    throw new AssertionError("the daemon nobody used is still alive", e);
                }
            });
            long livedMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("idle exit: a daemon that never got a Create exited %d ms after start%n", livedMs);
            assertFalse(ShimDaemon.alive(daemon));
            assertTrue(livedMs >= GRACE.toMillis(), "exited after " + livedMs + " ms, before its grace period");
            assertFalse(Files.exists(socket), "its socket is removed");
        } finally {
            if (ShimDaemon.alive(daemon)) {
                Posix.kill(daemon, 9);
            }
            Files.deleteIfExists(socket);
        }
    }

    @Test
    void aGroupDaemonHoldingAContainerOutlivesTheGracePeriodAndTakesTheNextOne() throws Exception {
        String group = "io.containerd.runc.v2.group=idle-group";
        String keeper = "group-keeper";
        String passing = "group-passing";
        String next = "group-next";
        containerd.ctrOk(CtrTasks.run(rootfs, keeper, "-d", "--annotation", group, "sleep", "1000"));
        int daemon = Integer.parseInt(Files.readString(ShimDaemon.bundleOf(containerd, keeper).resolve("shim.pid"))
                .trim());
        try {
            containerd.ctrOk(CtrTasks.run(rootfs, passing, "--rm", "--annotation", group, "true"));
            // what is proven is that nothing happens for longer than the grace period: a timed wait by nature
            Thread.sleep(GRACE.multipliedBy(2).toMillis());
            assertTrue(ShimDaemon.alive(daemon), "the group's daemon still holds " + keeper + " and must live");
            containerd.ctrOk(CtrTasks.run(rootfs, next, "-d", "--annotation", group, "true"));
            assertEquals(Files.readString(ShimDaemon.bundleOf(containerd, keeper).resolve("address")),
                    Files.readString(ShimDaemon.bundleOf(containerd, next).resolve("address")),
                    "the next container of the group joins the same daemon");
            assertTrue(ShimDaemon.alive(daemon));
            assertEquals(0, CtrTasks.awaitStoppedAndDelete(containerd, next));
        } finally {
            containerd.ctr("task", "kill", "-s", "KILL", keeper);
        }
        assertEquals(137, CtrTasks.awaitStoppedAndDelete(containerd, keeper));
        Optional<ProcessHandle> h = ProcessHandle.of(daemon);
        if (h.isPresent()) {
            h.get().onExit().get(BOUND.toMillis(), TimeUnit.MILLISECONDS); // Shutdown after the last Delete
        }
        containerd.ctrOk("container", "rm", keeper, next);
    }

    /** Releases the held runc delete of {@code id}; returns when (System.nanoTime). */
    private static long release(String id) throws Exception {
        try (var w = new java.io.FileOutputStream(holds.resolve(id + ".release").toFile())) {
            w.write('\n');
        }
        return System.nanoTime();
    }

    /** The task's line in {@code ctr task ls}, if containerd lists it. */
    private static Optional<String> taskLine(String id) throws Exception {
        return containerd.ctrOk("task", "ls").lines().filter(l -> l.startsWith(id + " ")).findFirst();
    }

    /** The container's directories in every cgroup v1 hierarchy (ctr puts it at /<namespace>/<id>). */
    private static List<Path> cgroupDirs(String id) throws Exception {
        List<Path> dirs = new ArrayList<>();
        try (var hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Path d = h.resolve(containerd.namespace()).resolve(id);
                if (Files.isDirectory(d)) {
                    dirs.add(d);
                }
            }
        }
        return dirs;
    }

    private static void awaitTrue(Check check, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " (within " + timeout.toSeconds() + " s)");
            }
            Thread.sleep(50);
        }
    }

    @FunctionalInterface
    interface Check {
        boolean holds() throws Exception;
    }
}
