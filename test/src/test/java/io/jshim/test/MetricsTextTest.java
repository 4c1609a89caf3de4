package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventQueue;
import io.jshim.events.EventTransport;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskExit;
import io.jshim.shim.Waits;
import io.jshim.shim.metrics.DaemonMetrics;
import io.jshim.shim.metrics.PromText;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The daemon's metrics text from real parts (queue, forwarder), read back by a strict reader of the format. */
class MetricsTextTest {

    @Test
    void backlogDropsAndAnUnreachableContainerdShowInTheText() throws Exception {
        EventQueue queue = new EventQueue("metrics-ns", 2, 1 << 20, Clock.systemUTC());
        CountDownLatch tried = new CountDownLatch(1);
        EventTransport away = new EventTransport() {
            @Override
            public void forward(io.jshim.proto.wire.Bytes envelope, String namespace) throws Exception {
                tried.countDown();
                throw new java.io.IOException("connection refused");
            }

            @Override
            public void close() {}
        };
        try (ContainerdForwarder forwarder = new ContainerdForwarder(queue, away).start()) {
            for (int i = 0; i < 3; i++) {
                queue.publish(TaskCreate.newBuilder().setContainerId("c" + i).build());
            }
            queue.publish(TaskExit.newBuilder().setContainerId("c0").build());
            assertTrue(tried.await(30, TimeUnit.SECONDS), "the forwarder tried");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (forwarder.reachable() && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // set right after the failed attempt that counted the latch down
            }
            String text = new DaemonMetrics("metrics-ns", queue, forwarder, java.util.List::of, null).text();
            PromExposition m = PromExposition.parse(text);
            Map<String, String> ns = Map.of("namespace", "metrics-ns");
            assertEquals(3, m.value("jshim_events_published_total", Map.of("namespace", "metrics-ns", "topic",
                    "/tasks/create")), text);
            assertEquals(1, m.value("jshim_events_published_total", Map.of("namespace", "metrics-ns", "topic",
                    "/tasks/exit")), text);
            assertEquals(2, m.value("jshim_events_dropped_total", Map.of("namespace", "metrics-ns", "topic",
                    "/tasks/create")), text);
            assertEquals(2, m.value("jshim_events_backlog", ns), text);
            assertTrue(m.value("jshim_events_backlog_bytes", ns) > 0, text);
            assertEquals(0, m.value("jshim_containerd_reachable", ns), text);
            assertTrue(m.value("jshim_events_forward_failures_total", ns) >= 1, text);
        }
    }

    @Test
    void anEventRetriedPastTheThresholdIsCountedAndShownWithItsContainer() throws Exception {
        EventQueue queue = new EventQueue("metrics-ns");
        EventTransport away = new EventTransport() {
            @Override
            public void forward(io.jshim.proto.wire.Bytes envelope, String namespace) throws Exception {
                throw new java.io.IOException("connection refused");
            }

            @Override
            public void close() {}
        };
        java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        // as the daemon wires it (Daemon.run), with a threshold short enough for a test
        Waits.watch(timer, java.time.Duration.ofMillis(200));
        try (ContainerdForwarder forwarder = new ContainerdForwarder(queue, away)
                .watchRetries(e -> Waits.begin(Waits.Kind.FORWARD, e.topic(), e.containerId())).start()) {
            long stuckBefore = Waits.stuck(Waits.Kind.FORWARD);
            queue.publish(TaskExit.newBuilder().setContainerId("c-away").build());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Waits.stuck(Waits.Kind.FORWARD) == stuckBefore && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            String text = new DaemonMetrics("metrics-ns", queue, forwarder, java.util.List::of, null).text();
            PromExposition m = PromExposition.parse(text);
            assertEquals(stuckBefore + 1, m.value("jshim_events_forwards_stuck_total", Map.of("namespace",
                    "metrics-ns")), "logged and counted once:\n" + text);
            assertTrue(m.value("jshim_events_forward_retrying_seconds", Map.of("namespace", "metrics-ns", "topic",
                    "/tasks/exit", "container_id", "c-away")) >= 0.2, text);
        } finally {
            Waits.watch(null, null);
            timer.shutdownNow();
        }
    }

    @Test
    void labelValuesAreEscapedAndNamesChecked() {
        PromText p = new PromText("namespace", "a\"b\\c\nd");
        p.family("x_total", "counter", "help with \\ and\nnewline").sample("x_total", 1.5, "k", "v");
        PromExposition m = PromExposition.parse(p.text());
        assertEquals(1.5, m.value("x_total", Map.of("namespace", "a\\\"b\\\\c\\nd", "k", "v")), p.text());
        assertThrows(IllegalArgumentException.class, () -> p.family("bad-name", "gauge", "h"));
        assertThrows(IllegalStateException.class, () -> p.family("x_total", "counter", "again"));
        assertThrows(IllegalArgumentException.class, () -> p.sample("y", 1, "bad-label", "v"));
    }
}
