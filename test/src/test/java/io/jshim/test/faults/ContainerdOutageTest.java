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
            // Exits spaced over the outage, 0.5 s apart at least, so their order is the order they happened.
            long spacingMs = Math.max(500, (outageSeconds - 4) * 1000L / (containers + execs));
            Map<String, Integer> expected = new LinkedHashMap<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < containers + execs; i++) {
                double delay = 2 + i * spacingMs / 1000.0;
                int status = 10 + i;
                String script = "sleep " + delay + "; exit " + status;
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
            long startedAt = System.nanoTime();
            containerd.stop();
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
}
