package io.jshim.test.bench;

import java.util.ArrayList;
import java.util.List;

/** Wall-clock samples of one measured command, in milliseconds. */
final class Latencies {
    private final List<Double> samples = new ArrayList<>();

    synchronized void add(long nanos) {
        samples.add(nanos / 1e6);
    }

    synchronized int count() {
        return samples.size();
    }

    double median() {
        return percentile(50);
    }

    double p90() {
        return percentile(90);
    }

    /** Nearest-rank percentile; NaN with no samples. */
    synchronized double percentile(int p) {
        if (samples.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(samples);
        sorted.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }
}
