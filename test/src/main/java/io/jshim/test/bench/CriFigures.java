package io.jshim.test.bench;

import io.jshim.test.bench.Bench.Shim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the CRI part of a bench run measured ({@link CriBench}), and its rows of the table. */
final class CriFigures {
    private record MemoryKey(Shim shim, int pods) {}

    private final Map<Shim, Latencies> podStart = new LinkedHashMap<>();
    private final Map<Shim, Latencies> runPodSandbox = new LinkedHashMap<>();
    private final Map<Shim, Latencies> createContainer = new LinkedHashMap<>();
    private final Map<Shim, Latencies> startContainer = new LinkedHashMap<>();
    /** Steady-state memory (the figures); {@link #early} as it was 3 s after the starts. */
    private final Map<MemoryKey, ShimMemory> memory = new LinkedHashMap<>();
    private final Map<MemoryKey, ShimMemory> early = new LinkedHashMap<>();

    Latencies podStart(Shim s) {
        return podStart.computeIfAbsent(s, k -> new Latencies());
    }

    Latencies runPodSandbox(Shim s) {
        return runPodSandbox.computeIfAbsent(s, k -> new Latencies());
    }

    Latencies createContainer(Shim s) {
        return createContainer.computeIfAbsent(s, k -> new Latencies());
    }

    Latencies startContainer(Shim s) {
        return startContainer.computeIfAbsent(s, k -> new Latencies());
    }

    void memory(Shim s, int pods, Bench.MemorySample m) {
        memory.put(new MemoryKey(s, pods), m.steady());
        early.put(new MemoryKey(s, pods), m.early());
    }

    private ShimMemory memory(Shim s, int pods) {
        return memory.getOrDefault(new MemoryKey(s, pods), new ShimMemory(0, 0, 0, 0, 0));
    }

    /** The CRI rows; none when the CRI part did not run. */
    List<Figure> figures() {
        List<Figure> f = new ArrayList<>();
        if (podStart.isEmpty()) {
            return f;
        }
        Shim j = Bench.JSHIM;
        Shim g = Bench.GO;
        f.add(new Figure("CRI pod start (RunPodSandbox+Create+Start)", "ms", podStart(j).median(),
                podStart(g).median(), podStart(j).p90(), podStart(g).p90(), true, 1.5, 1.15));
        if (memory.containsKey(new MemoryKey(j, 10))) {
            f.add(new Figure("CRI 10 pods, shim PSS per pod", "MB", memory(j, 10).pssMb() / 10,
                    memory(g, 10).pssMb() / 10, Double.NaN, Double.NaN, false, 18, 12));
        }
        return f;
    }

    String text() {
        StringBuilder b = new StringBuilder();
        if (podStart.isEmpty()) {
            return "";
        }
        b.append("%nCRI (containerd 1.6, host-network pods of one busybox container), median (p90) ms:%n".formatted());
        b.append("%-8s %17s %17s %17s %17s%n".formatted("shim", "pod start", "RunPodSandbox", "CreateContainer",
                "StartContainer"));
        for (Shim s : podStart.keySet()) {
            b.append("%-8s %17s %17s %17s %17s%n".formatted(s.name(), ms(podStart(s)), ms(runPodSandbox(s)),
                    ms(createContainer(s)), ms(startContainer(s))));
        }
        if (!memory.isEmpty()) {
            b.append("%nCRI shim memory, steady state (12 s after the starts; RSS at 3 s beside it):%n".formatted());
            b.append("%-8s %6s %6s %10s %10s %10s %10s %8s %10s %10s%n".formatted("shim", "pods", "procs", "RSS MB",
                    "RSS 3s MB", "RssAnon MB", "PSS MB", "threads", "RSS/pod", "PSS/pod"));
            memory.forEach((k, m) -> b.append("%-8s %6d %6d %10.1f %10.1f %10.1f %10.1f %8d %10.2f %10.2f%n"
                    .formatted(k.shim().name(), k.pods(), m.processes(), m.rssMb(), early.get(k).rssMb(), m.anonMb(),
                            m.pssMb(), m.threads(), m.rssMb() / k.pods(), m.pssMb() / k.pods())));
        }
        return b.toString();
    }

    private static String ms(Latencies l) {
        return "%.0f (%.0f)".formatted(l.median(), l.p90());
    }
}
