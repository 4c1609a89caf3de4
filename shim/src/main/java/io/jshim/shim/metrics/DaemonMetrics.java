package io.jshim.shim.metrics;

import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventQueue;
import io.jshim.shim.CallTally;
import io.jshim.shim.cli.Main;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.shim.runc.Runc;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The daemon's metrics in the Prometheus text format, read from the counters its parts keep (the event queue and
 * forwarder, {@link Runc#CALLS}, {@link TtrpcTaskFace#CALLS}) and from the JVM and /proc at the time of asking.
 * Loaded only on the first request for them. {@code forwarder} may be null (no forwarder in this process).
 */
public record DaemonMetrics(String namespace, EventQueue queue, ContainerdForwarder forwarder,
        IntSupplier containers) {

    public String text() {
        PromText p = new PromText("namespace", namespace);
        p.family("jshim_info", "gauge", "The shim daemon's version.").sample("jshim_info", 1, "version", Main.VERSION);
        p.family("jshim_containers", "gauge", "Containers this daemon holds.")
                .sample("jshim_containers", containers.getAsInt());
        taskApi(p);
        runc(p, System.nanoTime());
        events(p);
        jvm(p);
        return p.text();
    }

    private static void taskApi(PromText p) {
        CallTally t = TtrpcTaskFace.CALLS;
        p.family("jshim_task_requests_total", "counter", "Task API requests answered over ttrpc, by method and code.");
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

    private static void runc(PromText p, long now) {
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
        List<Runc.Running> running = Runc.running();
        p.family("jshim_runc_calls_in_flight", "gauge", "runc calls running now.")
                .sample("jshim_runc_calls_in_flight", running.size());
        long oldest = running.stream().mapToLong(r -> now - r.startNanos()).max().orElse(0);
        p.family("jshim_runc_call_oldest_age_seconds", "gauge", "Age of the oldest runc call running now (0: none).")
                .sample("jshim_runc_call_oldest_age_seconds", oldest / 1e9);
        p.family("jshim_runc_calls_stuck_total", "counter", "runc calls that ran longer than the stuck threshold "
                + "(JSHIM_RUNC_STUCK_SECONDS), each logged once.").sample("jshim_runc_calls_stuck_total",
                Runc.stuckCalls());
        p.family("jshim_runc_call_running_seconds", "gauge", "Each runc call running now: its age.");
        running.stream().sorted(Comparator.comparingLong(Runc.Running::startNanos))
                .forEach(r -> p.sample("jshim_runc_call_running_seconds", (now - r.startNanos()) / 1e9,
                        "subcommand", r.subcommand(), "container_id", r.id()));
    }

    private void events(PromText p) {
        topics(p, "jshim_events_published_total", "Events published, by topic.", queue.publishedByTopic());
        topics(p, "jshim_events_dropped_total", "Events dropped from the full backlog (never TaskExit or TaskOOM), "
                + "by topic.", queue.droppedByTopic());
        p.family("jshim_events_backlog", "gauge", "Events not yet delivered to containerd.")
                .sample("jshim_events_backlog", queue.backlogSize());
        p.family("jshim_events_backlog_bytes", "gauge", "Serialized size of the backlog.")
                .sample("jshim_events_backlog_bytes", queue.backlogBytes());
        if (forwarder == null) {
            return;
        }
        topics(p, "jshim_events_delivered_total", "Events containerd accepted, by topic.",
                forwarder.deliveredByTopic());
        p.family("jshim_events_forward_failures_total", "counter", "Attempts to forward an event that did not reach "
                + "containerd (each is retried).").sample("jshim_events_forward_failures_total",
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

    private static void jvm(PromText p) {
        Runtime rt = Runtime.getRuntime();
        p.family("jvm_memory_heap_used_bytes", "gauge", "Java heap in use.")
                .sample("jvm_memory_heap_used_bytes", rt.totalMemory() - rt.freeMemory());
        p.family("jvm_memory_heap_committed_bytes", "gauge", "Java heap committed.")
                .sample("jvm_memory_heap_committed_bytes", rt.totalMemory());
        p.family("jvm_memory_heap_max_bytes", "gauge", "Java heap limit.")
                .sample("jvm_memory_heap_max_bytes", rt.maxMemory());
        ProcSelf self = ProcSelf.read();
        p.family("process_resident_memory_bytes", "gauge", "Resident set size (VmRSS in /proc/self/status).")
                .sample("process_resident_memory_bytes", self.rssBytes());
        p.family("process_threads", "gauge", "Threads of the daemon process (Threads in /proc/self/status).")
                .sample("process_threads", self.threads());
    }

    private static long total(CallTally t, int name) {
        long n = 0;
        for (int o = 0; o < t.outcomes(); o++) {
            n += t.count(name, o);
        }
        return n;
    }
}
