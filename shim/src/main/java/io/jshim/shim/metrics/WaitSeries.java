package io.jshim.shim.metrics;

import io.jshim.shim.Waits;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * The waits open now ({@link Waits}: runc calls, output drains at an exit, events being retried to containerd), each
 * with its container id and age, and those reported stuck so far by kind.
 */
final class WaitSeries {
    private WaitSeries() {}

    static void write(PromText p, List<Waits.Wait> open, long now) {
        List<Waits.Wait> runc = open.stream().filter(w -> w.kind() == Waits.Kind.RUNC).toList();
        p.family("jshim_runc_calls_in_flight", "gauge", "runc calls running now.")
                .sample("jshim_runc_calls_in_flight", runc.size());
        long oldest = runc.stream().mapToLong(w -> now - w.startNanos()).max().orElse(0);
        p.family("jshim_runc_call_oldest_age_seconds", "gauge", "Age of the oldest runc call running now (0: none).")
                .sample("jshim_runc_call_oldest_age_seconds", oldest / 1e9);
        p.family("jshim_runc_calls_stuck_total", "counter", "runc calls that ran longer than the stuck threshold, "
                + "each logged once.").sample("jshim_runc_calls_stuck_total", Waits.stuck(Waits.Kind.RUNC));
        p.family("jshim_stdio_drains_stuck_total", "counter", "Exits whose output drain took longer than the stuck "
                + "threshold, each logged once.").sample("jshim_stdio_drains_stuck_total",
                Waits.stuck(Waits.Kind.DRAIN));
        p.family("jshim_events_forwards_stuck_total", "counter", "Events not delivered to containerd within the "
                + "stuck threshold of their first failed attempt, each logged once.")
                .sample("jshim_events_forwards_stuck_total", Waits.stuck(Waits.Kind.FORWARD));
        Duration after = Waits.stuckAfter();
        p.family("jshim_stuck_threshold_seconds", "gauge", "JSHIM_RUNC_STUCK_SECONDS: age at which a runc call, "
                + "drain or forward is reported stuck (0: never).").sample("jshim_stuck_threshold_seconds",
                after == null ? 0 : after.toSeconds());
        List<Waits.Wait> sorted = open.stream().sorted(Comparator.comparingLong(Waits.Wait::startNanos)).toList();
        p.family("jshim_runc_call_running_seconds", "gauge", "Each runc call running now: its age.");
        for (Waits.Wait w : sorted) {
            if (w.kind() == Waits.Kind.RUNC) {
                p.sample("jshim_runc_call_running_seconds", age(w, now), "subcommand", w.what(), "container_id",
                        w.containerId());
            }
        }
        p.family("jshim_stdio_drain_running_seconds", "gauge", "Each exit waiting for its output to drain: its age "
                + "(exec_id empty for the init).");
        for (Waits.Wait w : sorted) {
            if (w.kind() == Waits.Kind.DRAIN) {
                p.sample("jshim_stdio_drain_running_seconds", age(w, now), "container_id", w.containerId(),
                        "exec_id", w.what());
            }
        }
        p.family("jshim_events_forward_retrying_seconds", "gauge", "The event being retried to containerd: time "
                + "since its first failed attempt.");
        for (Waits.Wait w : sorted) {
            if (w.kind() == Waits.Kind.FORWARD) {
                p.sample("jshim_events_forward_retrying_seconds", age(w, now), "topic", w.what(), "container_id",
                        w.containerId());
            }
        }
    }

    private static double age(Waits.Wait w, long now) {
        return (now - w.startNanos()) / 1e9;
    }
}
