package io.jshim.shim.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a shim process's start-up milliseconds go, for the debug log: marks taken as the daemon comes up, measured
 * from the moment the kernel started the process (the launcher script, which execs the JVM in place), so the
 * JVM's own boot is the first entry. Only the daemon's main thread marks; the list is not shared.
 */
final class StartupTimeline {
    private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux x86-64

    private final long processStartNanos;
    private final List<String> names = new ArrayList<>();
    private final List<Long> at = new ArrayList<>();

    private StartupTimeline(long processStartNanos) {
        this.processStartNanos = processStartNanos;
    }

    /** A timeline whose zero is this process's start, as /proc/self/stat and /proc/uptime tell it. */
    static StartupTimeline sinceProcessStart() {
        long now = System.nanoTime();
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(f[19]); // field 22, starttime, counted after the comm field
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            long agoNanos = (long) ((uptime - (double) startTicks / CLOCK_TICKS_PER_SECOND) * 1e9);
            return new StartupTimeline(now - Math.max(0, agoNanos));
        } catch (Exception e) {
            return new StartupTimeline(now);
        }
    }

    void mark(String name) {
        names.add(name);
        at.add(System.nanoTime());
    }

    long elapsedMillis() {
        return (System.nanoTime() - processStartNanos) / 1_000_000;
    }

    /** {@code jvm+main 180 ms, logging 12 ms, ... = 420 ms since exec}: each step's own duration. */
    String summary() {
        StringBuilder b = new StringBuilder();
        long prev = processStartNanos;
        for (int i = 0; i < names.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(names.get(i)).append(' ').append((at.get(i) - prev) / 1_000_000)
                    .append(" ms");
            prev = at.get(i);
        }
        return b.append(" = ").append((prev - processStartNanos) / 1_000_000).append(" ms since exec").toString();
    }
}
