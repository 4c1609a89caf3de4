package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.test.Busybox;
import io.jshim.test.CtrEvents;
import io.jshim.test.CtrTasks;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: containerd is away for long (issue 10): stopped while containers exit and execs finish in one shim, then
 * restarted on the same root and state. Every TaskExit must then arrive, in the order the processes exited, none
 * twice. The queue bounds and drop policy are proven by EventQueue's unit tests; this is the real outage.
 */
class ContainerdOutageTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    static final String GROUP = "io.containerd.runc.v2.group=outage";

    @Test
    void everyExitArrivesOnceAndInOrderAfterContainerdComesBack(@TempDir Path dir) throws Exception {
        int outageSeconds = FULL ? 60 : 10;
        int containers = FULL ? 10 : 4;
        int execs = FULL ? 10 : 4;
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        try (PrivateContainerd containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString())) {
            String anchor = "outage-anchor";
            containerd.ctrOk(CtrTasks.run(rootfs, anchor, "-d", "--annotation", GROUP, "sleep", "100000"));
            // Every process waits for its own flag file (in the rootfs all of them share) and exits when the test
            // creates it: after containerd is stopped, one at a time, each only once the one before has been reaped,
            // so the order they exit in is the test's and none exits before the outage, however loaded the machine.
            Path flags = Files.createDirectories(rootfs.resolve("outage-flags"));
            long spacingMs = Math.max(500, (outageSeconds - 4) * 1000L / (containers + execs));
            Map<String, Integer> expected = new LinkedHashMap<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < containers + execs; i++) {
                int status = 10 + i;
                String script = "until [ -e /outage-flags/go-" + i + " ]; do sleep 0.05; done; exit " + status;
                if (i % 2 == 0 && ids.stream().filter(s -> s.startsWith("c")).count() < containers
                        || ids.stream().filter(s -> s.startsWith("x")).count() >= execs) {
                    String id = "c" + i;
                    containerd.ctrOk(CtrTasks.run(rootfs, id, "-d", "--annotation", GROUP, "sh", "-c", script));
                    ids.add(id);
                    expected.put(id + "/" + id, status);
                } else {
                    String execId = "x" + i;
                    containerd.ctrOk("task", "exec", "-d", "--exec-id", execId, anchor, "sh", "-c", script);
                    ids.add(execId);
                    expected.put(anchor + "/" + execId, status);
                }
            }
            List<Integer> pids = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                pids.add(hostPidOf("/outage-flags/go-" + i + " ]"));
            }
            long startedAt = System.nanoTime();
            containerd.stop();
            for (int i = 0; i < ids.size(); i++) {
                long releasedAt = System.nanoTime();
                Files.writeString(flags.resolve("go-" + i), "");
                awaitReaped(pids.get(i), ids.get(i));
                Thread.sleep(Math.max(0, spacingMs - (System.nanoTime() - releasedAt) / 1_000_000));
            }
            Thread.sleep(Math.max(0, TimeUnit.SECONDS.toMillis(outageSeconds)
                    - (System.nanoTime() - startedAt) / 1_000_000));
            // ctr events must be subscribed before the shim's next retry lands: retry it every 10 ms from before
            // containerd starts (the shim retries at most every 2 s).
            Path out = dir.resolve("events-after.txt");
            Files.writeString(out, "");
            String ctr = String.join(" ", containerd.ctrCommand()).replace("ctr ", "ctr --connect-timeout 50ms ");
            Child watcher = Reaper.get().spawn(SpawnSpec.of("sh", "-c",
                    "until " + ctr + " events >> " + out + " 2>/dev/null; do sleep 0.01; done"));
            long t0 = System.nanoTime();
            containerd.launch();
            long upMs = (System.nanoTime() - t0) / 1_000_000;
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                List<CtrEvents.Line> exits = List.of();
                while (System.nanoTime() < deadline) {
                    exits = CtrEvents.parse(out).stream().filter(l -> l.topic().equals("/tasks/exit")).toList();
                    if (exits.size() >= expected.size()) {
                        break;
                    }
                    Thread.sleep(100);
                }
                long deliveredMs = (System.nanoTime() - t0) / 1_000_000;
                Thread.sleep(2500); // a duplicate would come with the next retry
                exits = CtrEvents.parse(out).stream().filter(l -> l.topic().equals("/tasks/exit")).toList();
                List<String> seen = exits.stream().map(l -> l.containerId() + "/" + l.id()).toList();
                System.out.printf("containerd outage: %d s away, %d exits during it; containerd up in %d ms, all"
                                + " exits delivered %d ms after the restart began; received %s%n", outageSeconds,
                        expected.size(), upMs, deliveredMs, seen);
                assertEquals(List.copyOf(expected.keySet()), seen, "every exit once, in the order they happened");
                for (CtrEvents.Line l : exits) {
                    assertEquals(expected.get(l.containerId() + "/" + l.id()), l.exitStatus(), l.toString());
                }
                // and containerd's own view agrees
                for (String id : ids) {
                    if (id.startsWith("c")) {
                        assertEquals(expected.get(id + "/" + id), CtrTasks.awaitStoppedAndDelete(containerd, id));
                        containerd.ctrOk("container", "rm", id);
                    }
                }
            } finally {
                Posix.kill(watcher.pid(), 9);
                containerd.ctr("task", "kill", "-s", "KILL", anchor);
                Thread.sleep(500);
                containerd.ctr("task", "delete", anchor);
                containerd.ctr("container", "rm", anchor);
                String log = containerd.log();
                log.lines().filter(l -> l.contains("reachable again") || l.contains("cannot forward"))
                        .forEach(System.out::println);
            }
        }
    }

    /** The host pid of the one process whose command line holds {@code marker} (read before containerd stops). */
    private static int hostPidOf(String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<Integer> found = new ArrayList<>();
            try (var procs = Files.list(Path.of("/proc"))) {
                for (Path p : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                    try {
                        String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                        if (cmdline.startsWith("sh -c ") && cmdline.contains(marker)) {
                            found.add(Integer.parseInt(p.getFileName().toString()));
                        }
                    } catch (java.io.IOException gone) {
                        // exited meanwhile
                    }
                }
            }
            if (found.size() == 1) {
                return found.get(0);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("processes with " + marker + " in their command line: " + found);
            }
            Thread.sleep(50);
        }
    }

    /** Waits until {@code pid} is reaped (a zombie still has its /proc entry): the shim has taken its exit. */
    private static void awaitReaped(int pid, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (Files.exists(Path.of("/proc/" + pid))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " (pid " + pid + ") did not exit within 120 s of its flag");
            }
            Thread.sleep(10);
        }
    }
}
