package io.jshim.test.bench;

import io.jshim.test.bench.Bench.Shim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What one bench run measured, and the table made from it. */
final class Report {
    private record MemoryKey(Shim shim, int containers, boolean grouped) {}

    private final int rounds;
    private final Map<Shim, Latencies> cold = new LinkedHashMap<>();
    private final Map<Shim, Latencies> coldStandby = new LinkedHashMap<>();
    /** jshim's idle standby, alone: a node pays it once. */
    private ShimMemory standby = new ShimMemory(0, 0, 0, 0, 0);
    private final Map<Shim, Latencies> warm = new LinkedHashMap<>();
    private final Map<Shim, Latencies> exec = new LinkedHashMap<>();
    /** Steady-state memory (the figures); {@link #early} as it was 3 s after the starts. */
    private final Map<MemoryKey, ShimMemory> memory = new LinkedHashMap<>();
    private final Map<MemoryKey, ShimMemory> early = new LinkedHashMap<>();
    /** Pods through CRI, when that part ran. */
    final CriFigures cri = new CriFigures();

    Report(int rounds) {
        this.rounds = rounds;
    }

    Latencies cold(Shim s) {
        return cold.computeIfAbsent(s, k -> new Latencies());
    }

    /** Cold starts under a containerd whose jshim keeps a warm standby. */
    Latencies coldStandby(Shim s) {
        return coldStandby.computeIfAbsent(s, k -> new Latencies());
    }

    void standby(ShimMemory m) {
        standby = m;
    }

    /** The idle standby's memory for the chart's footer: the ctr part's, else the CRI part's. */
    ShimMemory standby() {
        return cold.isEmpty() ? cri.standby() : standby;
    }

    Latencies warm(Shim s) {
        return warm.computeIfAbsent(s, k -> new Latencies());
    }

    Latencies exec(Shim s) {
        return exec.computeIfAbsent(s, k -> new Latencies());
    }

    void memory(Shim s, int containers, boolean grouped, Bench.MemorySample m) {
        memory.put(new MemoryKey(s, containers, grouped), m.steady());
        early.put(new MemoryKey(s, containers, grouped), m.early());
    }

    private ShimMemory memory(Shim s, int containers, boolean grouped) {
        return memory.getOrDefault(new MemoryKey(s, containers, grouped), new ShimMemory(0, 0, 0, 0, 0));
    }

    /** The six rows, jshim against the Go shim of the same run. */
    List<Figure> figures() {
        Shim j = Bench.JSHIM;
        Shim g = Bench.GO;
        List<Figure> f = new ArrayList<>();
        if (cold.isEmpty()) { // the ctr part left out (jshim.bench.ctr=false)
            f.addAll(cri.figures());
            return f;
        }
        f.add(latency("cold ctr run --rm /bin/true, no standby", cold(j), cold(g), 3.0, 1.5));
        f.add(latency("cold ctr run --rm /bin/true, a standby waits", coldStandby(j), coldStandby(g), 1.5, 1.15));
        f.add(latency("warm ctr run --rm /bin/true (joins a group)", warm(j), warm(g), 1.3, 1.0));
        f.add(latency("ctr task exec /bin/true", exec(j), exec(g), 1.2, 1.0));
        f.add(new Figure("one shim, one container, RSS", "MB", memory(j, 1, false).rssMb(), memory(g, 1, false).rssMb(),
                Double.NaN, Double.NaN, false, 45, 35));
        f.add(new Figure("10 containers ungrouped (pods), PSS per pod", "MB", memory(j, 10, false).pssMb() / 10,
                memory(g, 10, false).pssMb() / 10, Double.NaN, Double.NaN, false, 18, 12));
        f.add(new Figure("10 containers in one group, PSS per container", "MB", memory(j, 10, true).pssMb() / 10,
                memory(g, 10, true).pssMb() / 10, Double.NaN, Double.NaN, false, 8, 3.5));
        f.add(new Figure("100 containers in one group, total shim RSS", "MB", memory(j, 100, true).rssMb(),
                memory(g, 100, true).rssMb(), Double.NaN, Double.NaN, false, 200, 100));
        f.addAll(cri.figures());
        return f;
    }

    private static Figure latency(String name, Latencies j, Latencies g, double must, double goal) {
        return new Figure(name, "ms", j.median(), g.median(), j.p90(), g.p90(), true, must, goal);
    }

    String text() {
        StringBuilder b = new StringBuilder();
        b.append("jshim vs containerd-shim-runc-v2, same containerd, alternating; latency: median (p90) of %d rounds%n"
                .formatted(rounds));
        b.append("%-48s %17s %17s %7s %22s  %s%n".formatted("figure", "jshim", "runc-v2 (Go)", "ratio", "must / goal",
                "verdict"));
        for (Figure f : figures()) {
            String js = f.relative() ? "%.0f (%.0f) ms".formatted(f.jshim(), f.jshimP90()) : "%.1f MB".formatted(f.jshim());
            String gs = f.relative() ? "%.0f (%.0f) ms".formatted(f.go(), f.goP90()) : "%.1f MB".formatted(f.go());
            b.append("%-48s %17s %17s %6.2fx %22s  %s%n".formatted(f.name(), js, gs, f.ratio(), f.bounds(),
                    f.verdict()));
        }
        if (!cold.isEmpty()) {
            b.append(("%nthe idle standby (one per containerd and settings; a node pays it once, beside every figure"
                    + " above): %d process(es), RSS %.1f MB, PSS %.1f MB, %d threads%n").formatted(standby.processes(),
                    standby.rssMb(), standby.pssMb(), standby.threads()));
        }
        if (memory.isEmpty()) {
            return b.append(cri.text()).toString();
        }
        b.append(("%nshim processes (sums over every shim process alive), steady state (from 12 s after the starts, once two"
                + " readings 3 s apart agree within 1%%; RSS at 3 s beside it):%n").formatted());
        b.append("%-8s %-32s %6s %10s %10s %10s %10s %8s %14s%n".formatted("shim", "containers", "procs", "RSS MB",
                "RSS 3s MB", "RssAnon MB", "PSS MB", "threads", "PSS/container"));
        memory.forEach((k, m) -> {
            int n = k.containers();
            String setup = n == 1 ? "1" : n + (k.grouped() ? " in one group" : " ungrouped");
            b.append("%-8s %-32s %6d %10.1f %10.1f %10.1f %10.1f %8d %14.2f%n".formatted(k.shim().name(), setup,
                    m.processes(), m.rssMb(), early.get(k).rssMb(), m.anonMb(), m.pssMb(), m.threads(),
                    m.pssMb() / n));
        });
        b.append(cri.text());
        return b.toString();
    }
}
