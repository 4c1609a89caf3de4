package io.jshim.shim.metrics;

import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventHub;
import io.jshim.events.EventQueue;
import io.jshim.shim.CallTally;
import io.jshim.shim.Waits;
import io.jshim.shim.cli.Main;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.shim.process.Container;
import io.jshim.shim.runc.Runc;
import io.jshim.shim.task.Drain;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The daemon's metrics in the Prometheus text format, read from the counters its parts keep (the event queue and
 * forwarder and event stream, {@link Runc#CALLS}, {@link TtrpcTaskFace#CALLS}, {@link Waits}, the containers) and
 * from the JVM and /proc at the time of asking. Loaded only on the first request for them. {@code forwarder} may be
 * null (no forwarder in this process), and so may {@code hub} or what it supplies (no event stream served).
 */
public record DaemonMetrics(String namespace, EventQueue queue, ContainerdForwarder forwarder,
        Supplier<List<Container>> containers, Supplier<EventHub> hub) {

    public String text() {
        PromText p = new PromText("namespace", namespace);
        p.family("jshim_info", "gauge", "The shim daemon's version.").sample("jshim_info", 1, "version", Main.VERSION);
        ContainerSeries.write(p, containers.get());
        taskApi(p);
        runc(p);
        WaitSeries.write(p, Waits.open(), System.nanoTime());
        p.family("jshim_stdio_drain_timeouts_total", "counter", "Exits reported before their output was drained "
                + "(the drain's 5 s ran out).").sample("jshim_stdio_drain_timeouts_total", Drain.timeouts());
        events(p);
        JvmSeries.write(p);
        return p.text();
    }

    private static void taskApi(PromText p) {
        CallTally t = TtrpcTaskFace.CALLS;
        p.family("jshim_task_requests_total", "counter", "Task API requests answered (ttrpc and gRPC), by "
                + "method and code.");
        for (int m = 0; m < t.names().size(); m++) {
            for (int c = 0; c < t.outcomes(); c++) {
                long n = t.count(m, c);
                if (n > 0) {
                    p.sample("jshim_task_requests_total", n, "method", t.names().get(m), "code",
                            io.jshim.ttrpc.Code.of(c).name());
                }
            }
        }
        p.family("jshim_task_request_duration_seconds", "histogram", "Task API request latency, by method.");
        for (int m = 0; m < t.names().size(); m++) {
            if (total(t, m) > 0) {
                p.histogram("jshim_task_request_duration_seconds", t, m, "method", t.names().get(m));
            }
        }
    }

    private static void runc(PromText p) {
        CallTally t = Runc.CALLS;
        p.family("jshim_runc_calls_total", "counter", "runc calls that ended, by subcommand.");
        for (int s = 0; s < t.names().size(); s++) {
            if (total(t, s) > 0) {
                p.sample("jshim_runc_calls_total", total(t, s), "subcommand", t.names().get(s));
            }
        }
        p.family("jshim_runc_call_failures_total", "counter", "runc calls that failed (exit status not 0, timeout, "
                + "not started), by subcommand.");
        for (int s = 0; s < t.names().size(); s++) {
            if (t.count(s, 1) > 0) {
                p.sample("jshim_runc_call_failures_total", t.count(s, 1), "subcommand", t.names().get(s));
            }
        }
        p.family("jshim_runc_call_duration_seconds", "histogram", "runc call latency, by subcommand.");
        for (int s = 0; s < t.names().size(); s++) {
            if (total(t, s) > 0) {
                p.histogram("jshim_runc_call_duration_seconds", t, s, "subcommand", t.names().get(s));
            }
        }
    }

    private void events(PromText p) {
        topics(p, "jshim_events_published_total", "Events published, by topic.", queue.publishedByTopic());
        topics(p, "jshim_events_dropped_total", "Events dropped from the full backlog (never TaskExit or TaskOOM), "
                + "by topic.", queue.droppedByTopic());
        p.family("jshim_events_backlog", "gauge", "Events not yet delivered to containerd.")
                .sample("jshim_events_backlog", queue.backlogSize());
        p.family("jshim_events_backlog_bytes", "gauge", "Serialized size of the backlog.")
                .sample("jshim_events_backlog_bytes", queue.backlogBytes());
        EventHub h = hub == null ? null : hub.get();
        if (h != null) {
            p.family("jshim_event_subscribers", "gauge", "Clients subscribed to the event stream now.")
                    .sample("jshim_event_subscribers", h.subscriberCount());
            p.family("jshim_event_subscribers_cut_off_total", "counter", "Event-stream subscribers cut off for "
                    + "falling behind.").sample("jshim_event_subscribers_cut_off_total", h.cutOffs());
        }
        if (forwarder == null) {
            return;
        }
        topics(p, "jshim_events_delivered_total", "Events containerd accepted, by topic.",
                forwarder.deliveredByTopic());
        p.family("jshim_events_forward_failures_total", "counter", "Attempts to forward an event that did not reach "
                + "containerd (each is retried: the event stays first in the backlog).").sample("jshim_events_forward_failures_total",
                forwarder.failedAttempts());
        p.family("jshim_events_rejected_total", "counter", "Events containerd refused (skipped).")
                .sample("jshim_events_rejected_total", forwarder.rejected());
        p.family("jshim_containerd_reachable", "gauge", "1 if the last attempt to forward an event reached "
                + "containerd (1 before any attempt).").sample("jshim_containerd_reachable",
                forwarder.reachable() ? 1 : 0);
        p.family("jshim_containerd_reachable_changed_seconds", "gauge", "When jshim_containerd_reachable last "
                + "changed (or the forwarder started), Unix time.").sample(
                "jshim_containerd_reachable_changed_seconds", forwarder.reachableSinceMillis() / 1000.0);
    }

    private static void topics(PromText p, String name, String help, Map<String, Long> byTopic) {
        p.family(name, "counter", help);
        byTopic.forEach((topic, n) -> p.sample(name, n, "topic", topic));
    }

    private static long total(CallTally t, int name) {
        long n = 0;
        for (int o = 0; o < t.outcomes(); o++) {
            n += t.count(name, o);
        }
        return n;
    }
}
