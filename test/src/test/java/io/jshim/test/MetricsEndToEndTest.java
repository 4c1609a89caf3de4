package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon started by a real containerd 1.6 runs a container, a second one of its group that runs to its end and is
 * deleted, and an exec; then {@code containerd-shim-jshim-v2 metrics --address} reads the daemon's metrics over its
 * ttrpc socket: Task API requests by method and code, runc calls by subcommand, events by topic, the JVM's series.
 * The text passes a strict reader of the format, and {@code promtool check metrics} where it is installed.
 */
class MetricsEndToEndTest {
    static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static Path bin;
    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        bin = InstalledShim.install(dir.resolve("install"));
        // every JVM of the install logs the classes it loads: the daemon must load no metrics class before a Get
        Files.writeString(dir.resolve("install/lib/jvm.options"), "-Xlog:class+load=info:file=" + dir
                + "/classes-%p.log\n", java.nio.file.StandardOpenOption.APPEND);
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        // a runc call is stuck after 1 s here (30 s by default), so that the test's stuck pause is seen soon
        containerd = PrivateContainerd.start(dir.resolve("cd"), Map.of("JSHIM_RUNC_STUCK_SECONDS", "1"),
                bin.toString(), holdingRunc().toString());
    }

    /**
     * A {@code runc} first on the shims' PATH that holds {@code pause} of {@link #STUCK_ID} until {@link #RELEASE}
     * exists, and runs every other call straight away (ctr 1.6 sets no runc binary for a runtime other than runc's).
     */
    static Path holdingRunc() throws Exception {
        String real = java.util.stream.Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, "runc"))
                .filter(Files::isExecutable).findFirst().orElseThrow().toString();
        Path wrapDir = Files.createDirectories(dir.resolve("holding-runc"));
        Path wrapper = wrapDir.resolve("runc");
        Files.writeString(wrapper, "#!/bin/sh\ncase \" $* \" in *\" pause " + STUCK_ID + "\"*) while [ ! -e "
                + dir.resolve(RELEASE) + " ]; do sleep 0.05; done ;; esac\nexec " + real + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return wrapDir;
    }

    static final String STUCK_ID = "metrics-stuck";
    /** Kill by pidfd takes milliseconds; generous for busy CI cores, far below the pause's hold (the whole test). */
    static final Duration KILL_ANSWER = Duration.ofSeconds(15);
    static final String RELEASE = "release-pause";

    @AfterAll
    static void tearDown() throws Exception {
        if (containerd != null) {
            containerd.close();
        }
    }

    @Test
    void metricsCommandShowsWhatTheDaemonDid() throws Exception {
        String group = "metrics-pod";
        String id = "metrics-main";
        String annotation = "io.containerd.runc.v2.group=" + group;
        // the CRI's annotations name the pod (containerd's CRI sets them on the sandbox and its containers)
        containerd.ctrOk(CtrTasks.run(rootfs, id, "-d", "--annotation", annotation, "--annotation",
                "io.kubernetes.cri.sandbox-name=web-0", "--annotation", "io.kubernetes.cri.sandbox-namespace=shop",
                "sleep", "1000"));
        try {
            // a second container of the group runs to its end and is deleted: create, start, delete in one daemon
            containerd.ctrOk(CtrTasks.run(rootfs, "metrics-once", "--rm", "--annotation", annotation, "true"));
            CommandResult exec = containerd.ctr("task", "exec", "--exec-id", "e1", id, "sh", "-c",
                    "echo metrics-out; exit 0");
            assertEquals(0, exec.status(), exec.stderrText());
            assertTrue(exec.stdoutText().contains("metrics-out"), exec.stdoutText());

            Path bundle = containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace())
                    .resolve(id);
            String address = Files.readString(bundle.resolve("address")).trim();
            Path classes = dir.resolve("classes-" + Files.readString(bundle.resolve("shim.pid")).trim() + ".log");
            assertTrue(Files.readString(classes).contains("io.jshim.shim.runc.Runc "), "the daemon's class log");
            assertFalse(Files.readString(classes).contains("io.jshim.shim.metrics."),
                    "no metrics class loaded before the first Get");
            CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(
                    bin.resolve("containerd-shim-jshim-v2").toString(), "metrics", "--address", address), null, LIMIT);
            assertEquals(0, r.status(), r.stderrText());
            String text = r.stdoutText();
            assertTrue(Files.readString(classes).contains("io.jshim.shim.metrics.DaemonMetrics "), "loaded by Get");
            PromExposition m = PromExposition.parse(text);
            Map<String, String> ns = Map.of("namespace", containerd.namespace());

            for (String method : List.of("Create", "Start", "Exec", "Delete", "State")) {
                assertTrue(count(m, "jshim_task_requests_total", ns, "method", method, "code", "OK") >= 1,
                        method + " OK counted:\n" + text);
            }
            assertTrue(count(m, "jshim_task_requests_total", ns, "method", "Create", "code", "OK") >= 2, text);
            assertTrue(count(m, "jshim_task_request_duration_seconds_count", ns, "method", "Create") >= 2, text);
            for (String sub : List.of("create", "start", "exec", "delete")) {
                assertTrue(count(m, "jshim_runc_calls_total", ns, "subcommand", sub) >= 1, "runc " + sub + ":\n" + text);
                assertTrue(count(m, "jshim_runc_call_duration_seconds_count", ns, "subcommand", sub) >= 1, text);
            }
            assertEquals(0, count(m, "jshim_runc_call_failures_total", ns, "subcommand", "create"), text);
            for (String topic : List.of("/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
                    "/tasks/exit", "/tasks/delete")) {
                assertTrue(count(m, "jshim_events_published_total", ns, "topic", topic) >= 1, topic + ":\n" + text);
            }
            assertEquals(1, count(m, "jshim_containerd_reachable", ns), text);
            assertEquals(1, count(m, "jshim_containers", ns), "the main container is left:\n" + text);
            assertEquals(1, count(m, "jshim_containers", ns, "state", "running"), text);
            assertEquals(1, count(m, "jshim_processes", ns, "state", "running"), "the exec was deleted:\n" + text);
            assertEquals(1, count(m, "jshim_container_state", ns, "container_id", id, "state", "running",
                    "pod_name", "web-0", "pod_namespace", "shop"), "its pod from the CRI annotations:\n" + text);
            assertTrue(count(m, "jshim_stdio_bytes_total", ns, "container_id", id, "stream", "stdout")
                    >= "metrics-out\n".length(), "the exec's output counted for its container:\n" + text);
            assertEquals(0, count(m, "jshim_stdio_copy_errors_total", ns, "container_id", id), text);
            assertEquals(0, count(m, "jshim_oom_kills_total", ns, "container_id", id), text);
            assertTrue(count(m, "jvm_gc_collections_total", ns) >= 0 && !m.find("jvm_gc_collections_total", ns)
                    .isEmpty(), text);
            for (String jvm : List.of("jvm_memory_heap_used_bytes", "jvm_memory_heap_max_bytes",
                    "process_resident_memory_bytes", "process_threads")) {
                assertTrue(count(m, jvm, ns) > 0, jvm + ":\n" + text);
            }
            assertFalse(m.find("jshim_runc_calls_in_flight", ns).isEmpty(), text);

            if (Files.isExecutable(PROMTOOL)) {
                CommandResult check = new Monitor(Reaper.get()).run(SpawnSpec.of(PROMTOOL.toString(), "check",
                        "metrics"), text.getBytes(StandardCharsets.UTF_8), LIMIT);
                assertEquals(0, check.status(), "promtool check metrics: " + check.stdoutText() + check.stderrText());
            }
        } finally {
            containerd.ctr("task", "kill", "-s", "KILL", id);
            CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctr("container", "rm", id);
        }
    }

    @Test
    void aStuckRuncCallIsLoggedOnceAndShownWithItsContainer() throws Exception {
        String id = STUCK_ID;
        Path release = dir.resolve(RELEASE);
        containerd.ctrOk(CtrTasks.run(rootfs, id, "-d", "sleep", "1000"));
        io.jshim.reaper.Child pause = containerd.ctrBackground(dir.resolve("pause.out"), "task", "pause", id);
        try {
            String address = Files.readString(containerd.state().resolve("io.containerd.runtime.v2.task")
                    .resolve(containerd.namespace()).resolve(id).resolve("address")).trim();
            Map<String, String> stuck = Map.of("namespace", containerd.namespace(), "subcommand", "pause",
                    "container_id", id);
            long deadline = System.nanoTime() + LIMIT.toNanos();
            PromExposition m;
            do {
                CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(
                        bin.resolve("containerd-shim-jshim-v2").toString(), "metrics", "--address", address), null,
                        LIMIT);
                assertEquals(0, r.status(), r.stderrText());
                m = PromExposition.parse(r.stdoutText());
            } while ((m.find("jshim_runc_call_running_seconds", stuck).isEmpty()
                    || m.value("jshim_runc_calls_stuck_total", Map.of("namespace", containerd.namespace())) < 1)
                    && System.nanoTime() < deadline);
            assertTrue(m.find("jshim_runc_call_running_seconds", stuck).getFirst().value() >= 1, m.toString());
            assertEquals(1, m.value("jshim_runc_calls_stuck_total", Map.of("namespace", containerd.namespace())),
                    "the one stuck call: " + m);
            assertTrue(m.value("jshim_runc_call_oldest_age_seconds", Map.of("namespace", containerd.namespace())) >= 1);
            String line = id + " runc pause still running after";
            while (!containerd.log().contains(line) && System.nanoTime() < deadline) {
                Thread.sleep(100); // the daemon's log reaches containerd's through a fifo containerd copies
            }
            assertEquals(1, containerd.log().split(java.util.regex.Pattern.quote(line), -1).length - 1,
                    "logged once:\n" + containerd.log());
            assertEquals(1, count(m, "jshim_container_state", Map.of("namespace", containerd.namespace()),
                    "container_id", id, "state", "pausing"), "its state while the pause hangs:\n" + m);

            // Kill answers while the pause still hangs: it takes no lock a pause holds, and no runc call
            long before = System.nanoTime();
            CommandResult kill = containerd.ctr("task", "kill", "-s", "KILL", id);
            assertEquals(0, kill.status(), kill.stderrText());
            assertTrue(System.nanoTime() - before < KILL_ANSWER.toNanos(), "Kill answered in "
                    + (System.nanoTime() - before) / 1_000_000 + " ms");
            assertFalse(Files.exists(release), "the pause was not released");
            assertFalse(pause.onExit().isDone(), "ctr task pause still waits on the stuck runc call");
        } finally {
            Files.createFile(release);
            PrivateContainerd.await(pause, LIMIT);
            containerd.ctr("task", "kill", "-s", "KILL", id);
            containerd.ctr("task", "resume", id);
            CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctr("container", "rm", id);
        }
    }

    @Test
    void anOomKillIsCountedForItsContainer() throws Exception {
        String id = "metrics-oom";
        // dd's one 256 MiB block is touched page by page: the 32 MiB limit ends it with an OOM kill
        containerd.ctrOk(CtrTasks.run(rootfs, id, "-d", "--memory-limit", Long.toString(32L << 20), "dd",
                "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"));
        try {
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while (containerd.ctrOk("task", "ls").lines().noneMatch(l -> l.startsWith(id + " ") && l.contains(
                    "STOPPED")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            String address = Files.readString(containerd.state().resolve("io.containerd.runtime.v2.task")
                    .resolve(containerd.namespace()).resolve(id).resolve("address")).trim();
            CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(
                    bin.resolve("containerd-shim-jshim-v2").toString(), "metrics", "--address", address), null, LIMIT);
            assertEquals(0, r.status(), r.stderrText());
            PromExposition m = PromExposition.parse(r.stdoutText());
            Map<String, String> ns = Map.of("namespace", containerd.namespace());
            assertEquals(1, count(m, "jshim_oom_kills_total", ns, "container_id", id), r.stdoutText());
            assertEquals(1, count(m, "jshim_containers", ns, "state", "stopped"), r.stdoutText());
            assertEquals(1, count(m, "jshim_events_published_total", ns, "topic", "/tasks/oom"), r.stdoutText());
        } finally {
            assertEquals(137, CtrTasks.awaitStoppedAndDelete(containerd, id));
            containerd.ctr("container", "rm", id);
        }
    }

    /** The sum of the samples of {@code name} with the namespace and these extra labels (name, value pairs). */
    private static double count(PromExposition m, String name, Map<String, String> ns, String... labels) {
        Map<String, String> want = new java.util.HashMap<>(ns);
        for (int i = 0; i < labels.length; i += 2) {
            want.put(labels[i], labels[i + 1]);
        }
        return m.find(name, want).stream().mapToDouble(PromExposition.Sample::value).sum();
    }
}
