package io.jshim.shim;

import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts of one kind of call (Task API methods, runc subcommands): per name and outcome, and a latency histogram
 * per name. Plain atomic arrays, so counting costs a few increments and loads nothing; the Prometheus text is
 * written elsewhere (io.jshim.shim.metrics), only when asked. Thread-safe without locks.
 */
public final class CallTally {
    /** Upper bounds of the latency buckets, in nanoseconds (the last bucket, +Inf, is implicit). */
    private static final long[] BOUNDS_NANOS = {1_000_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L,
            100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L,
            10_000_000_000L, 30_000_000_000L, 120_000_000_000L};

    private final List<String> names;
    private final int outcomes;
    /** [name * outcomes + outcome]: calls that ended so. */
    private final AtomicLongArray counts;
    /** [name * (bounds + 1) + bucket]: calls whose latency fell in the bucket (not cumulative). */
    private final AtomicLongArray buckets;
    /** [name]: sum of the latencies, nanoseconds. */
    private final AtomicLongArray sumNanos;

    public CallTally(List<String> names, int outcomes) {
        this.names = List.copyOf(names);
        this.outcomes = outcomes;
        this.counts = new AtomicLongArray(names.size() * outcomes);
        this.buckets = new AtomicLongArray(names.size() * (BOUNDS_NANOS.length + 1));
        this.sumNanos = new AtomicLongArray(names.size());
    }

    public void record(int name, int outcome, long nanos) {
        counts.incrementAndGet(name * outcomes + outcome);
        int b = 0;
        while (b < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[b]) {
            b++;
        }
        buckets.incrementAndGet(name * (BOUNDS_NANOS.length + 1) + b);
        sumNanos.addAndGet(name, nanos);
    }

    public List<String> names() {
        return names;
    }

    public int outcomes() {
        return outcomes;
    }

    public long count(int name, int outcome) {
        return counts.get(name * outcomes + outcome);
    }

    /** The bucket bounds in seconds (without +Inf). */
    public static double[] boundsSeconds() {
        double[] s = new double[BOUNDS_NANOS.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = BOUNDS_NANOS[i] / 1e9;
        }
        return s;
    }

    /** Calls of {@code name} in bucket {@code bucket} (0..bounds; the last is +Inf), not cumulative. */
    public long bucket(int name, int bucket) {
        return buckets.get(name * (BOUNDS_NANOS.length + 1) + bucket);
    }

    public long sumNanos(int name) {
        return sumNanos.get(name);
    }
}
