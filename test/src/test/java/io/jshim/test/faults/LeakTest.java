package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.test.AnchoredShim;
import io.jshim.test.OciBundle;
import io.jshim.test.ShimDaemon;
import io.jshim.test.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: many create/exec/delete cycles, with and without a terminal, in one real shim daemon (issue 10). Its fds,
 * threads and pty masters must return exactly to the baseline, its heap after a forced GC to within 2 MB, and no
 * child may be left a zombie.
 */
class LeakTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));

    record Figures(int fds, int threads, int ptys, long heapKb, Map<String, Integer> kinds) {
        static Figures of(ShimDaemon d) throws Exception {
            long heap = d.heapUsedAfterGcKb();
            return new Figures(d.fdCount(), d.threadCount(), d.ptyCount(), heap, d.fdKinds());
        }
    }

    static void cycle(TaskClient tasks, Path dir, Path rootfs, String id, boolean tty) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out")).resolve(id + ".txt");
        Files.deleteIfExists(out);
        Files.createFile(out);
        Path b = OciBundle.of("sleep", "100000").terminal(tty).writeTo(dir.resolve("bundles").resolve(id), rootfs);
        tasks.create(tasks.createRequest(id, b).setTerminal(tty).setStdout(out.toString())
                .setStderr(tty ? "" : out.toString()).build());
        tasks.start(id);
        tasks.exec(id, "e", List.of("sh", "-c", "echo exec-output"), "", out.toString(), tty ? "" : out.toString(), tty);
        tasks.start(id, "e");
        assertEquals(0, tasks.await(id, "e").getExitStatus());
        tasks.delete(id, "e");
        tasks.kill(id, "", 9, false);
        assertEquals(137, tasks.await(id, "").getExitStatus());
        tasks.delete(id, "");
        deleteTree(dir.resolve("bundles").resolve(id));
    }

    static void deleteTree(Path p) throws Exception {
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Test
    void createExecDeleteCyclesLeaveTheDaemonAsTheyFoundIt(@TempDir Path dir) throws Exception {
        int cycles = FULL ? 1000 : 30;
        try (AnchoredShim shim = AnchoredShim.start(dir, "leak-anchor")) {
            ShimDaemon daemon = shim.daemon();
            TaskClient tasks = shim.tasks(dir.resolve("runc"));
            // Warm up both paths: classes, pools and the console socket directory come once.
            cycle(tasks, dir, shim.rootfs(), "warm-0", false);
            cycle(tasks, dir, shim.rootfs(), "warm-1", true);
            Thread.sleep(1000);
            Figures before = Figures.of(daemon);
            long t0 = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                cycle(tasks, dir, shim.rootfs(), "leak-" + i, i % 2 == 1);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // Threads of pools that grew with the load retire after their keep-alive: wait for them, not longer.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(70);
            Figures after = Figures.of(daemon);
            while ((after.fds() != before.fds() || after.threads() > before.threads() || after.ptys() != before.ptys())
                    && System.nanoTime() < deadline) {
                Thread.sleep(2000);
                after = Figures.of(daemon);
            }
            List<Integer> zombies = daemon.zombieChildren();
            System.out.printf("leaks: %d cycles (half with a tty) in %d ms; fds %d -> %d, threads %d -> %d,"
                            + " ptys %d -> %d, heap after GC %d KiB -> %d KiB, zombies %s%n", cycles, ms,
                    before.fds(), after.fds(), before.threads(), after.threads(), before.ptys(), after.ptys(),
                    before.heapKb(), after.heapKb(), zombies);
            assertEquals(before.fds(), after.fds(), "fds: " + before.kinds() + " -> " + after.kinds());
            assertTrue(after.threads() <= before.threads(), "threads " + before.threads() + " -> " + after.threads());
            assertEquals(before.ptys(), after.ptys(), "pty masters");
            assertTrue(after.heapKb() <= before.heapKb() + 2048, "heap after GC " + before.heapKb() + " KiB -> "
                    + after.heapKb() + " KiB");
            assertEquals(List.of(), zombies, "zombie children of the daemon");
        }
    }
}
