package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.shim.Waits;
import io.jshim.shim.metrics.DaemonMetrics;
import io.jshim.events.EventQueue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An exec whose background child keeps its stdout open: its exit waits for the output to drain, which is listed in
 * the metrics with its container and exec, logged and counted as stuck past the threshold, and ends at the drain's
 * limit (5 s) with the exit reported anyway.
 */
class StuckDrainTest {
    @TempDir
    static Path dir;

    @Test
    void anExitWaitingForItsOutputIsShownWithItsContainerAndCountedStuck() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        Waits.watch(timer, Duration.ofMillis(500)); // as the daemon does with JSHIM_RUNC_STUCK_SECONDS
        try (ShimFixture f = ShimFixture.start(dir, true)) {
            TaskClient tasks = f.tasks();
            String id = f.newId("drain");
            tasks.create(tasks.createRequest(id, f.bundle(id, OciBundle.of("sleep", "1000"))).build());
            tasks.start(id);
            try {
                Path out = Fifos.make(dir.resolve(id + "-exec-out"));
                CompletableFuture<byte[]> text = Fifos.readAll(out);
                long stuckBefore = Waits.stuck(Waits.Kind.DRAIN);
                // sh exits at once; the sleep it leaves behind holds the exec's stdout
                tasks.exec(id, "held", List.of("sh", "-c", "sleep 1000 & echo started"), "", out.toString(), "",
                        false);
                tasks.start(id, "held");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (Waits.stuck(Waits.Kind.DRAIN) == stuckBefore && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                EventQueue queue = new EventQueue(ShimHarness.NAMESPACE);
                String metrics = new DaemonMetrics(ShimHarness.NAMESPACE, queue, null, f.shim().tasks()::containers,
                        null).text();
                PromExposition m = PromExposition.parse(metrics);
                Map<String, String> ns = Map.of("namespace", ShimHarness.NAMESPACE);
                assertEquals(stuckBefore + 1, m.value("jshim_stdio_drains_stuck_total", ns), metrics);
                assertTrue(m.value("jshim_stdio_drain_running_seconds", Map.of("namespace", ShimHarness.NAMESPACE,
                        "container_id", id, "exec_id", "held")) >= 0.5, metrics);
                assertEquals(2, m.value("jshim_container_processes", Map.of("namespace", ShimHarness.NAMESPACE,
                        "container_id", id, "state", "running")), "init and exec (its exit not reported yet):\n"
                        + metrics);

                // the drain's limit ends the wait: the exit is reported, the drain counted as timed out
                assertEquals(0, tasks.await(id, "held").getExitStatus());
                String after = new DaemonMetrics(ShimHarness.NAMESPACE, queue, null, f.shim().tasks()::containers,
                        null).text();
                PromExposition a = PromExposition.parse(after);
                assertTrue(a.value("jshim_stdio_drain_timeouts_total", ns) >= 1, after);
                assertTrue(a.find("jshim_stdio_drain_running_seconds", Map.of("container_id", id)).isEmpty(), after);
                assertTrue(a.value("jshim_stdio_bytes_total", Map.of("namespace", ShimHarness.NAMESPACE,
                        "container_id", id, "stream", "stdout")) >= "started\n".length(), after);
                tasks.kill(id, "", 9, true); // the sleep too: the fifo's reader then sees its end
                assertEquals("started\n", new String(text.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8));
            } finally {
                tasks.forceRemove(id);
            }
        } finally {
            Waits.watch(null, null);
            timer.shutdownNow();
        }
    }
}
