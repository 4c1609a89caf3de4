package io.jshim.test.bench;

import io.jshim.test.bench.Bench.Shim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the CRI part of a bench run measured ({@link CriBench}), and its rows of the table. */
final class CriFigures {
    private record MemoryKey(Shim shim, int pods) {}

    /** One setup's memory: the shims 3 s after the starts and in the steady state, and the idle standby then. */
    record Sample(ShimMemory early, ShimMemory steady, ShimMemory standby) {}

    /** The pod starts of one containerd (with or without a standby), per shim, and the calls they are made of. */
    static final class PodStarts {
        private final Map<Shim, Latencies> podStart = new LinkedHashMap<>();
        private final Map<Shim, Latencies> runPodSandbox = new LinkedHashMap<>();
        private final Map<Shim, Latencies> createContainer = new LinkedHashMap<>();
        private final Map<Shim, Latencies> startContainer = new LinkedHashMap<>();
        /** jshim rounds whose cold start the launcher handed to a standby. */
        int adopted;

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

        boolean isEmpty() {
            return podStart.isEmpty();
        }
    }

    private final PodStarts cold = new PodStarts();
    private final PodStarts withStandby = new PodStarts();
    private final Map<MemoryKey, Sample> memory = new LinkedHashMap<>();

    PodStarts podStarts(boolean standby) {
        return standby ? withStandby : cold;
    }

    void memory(Shim s, int pods, Sample m) {
        memory.put(new MemoryKey(s, pods), m);
    }

    private ShimMemory steady(Shim s, int pods) {
        Sample m = memory.get(new MemoryKey(s, pods));
        return m == null ? new ShimMemory(0, 0, 0, 0, 0) : m.steady();
    }

    /** The idle standby as it was beside the jshim pods of the first memory setup (a node pays it once). */
    ShimMemory standby() {
        return memory.entrySet().stream().filter(e -> e.getKey().shim() == Bench.JSHIM).findFirst()
                .map(e -> e.getValue().standby()).orElse(new ShimMemory(0, 0, 0, 0, 0));
    }

    /** The CRI rows; none when the CRI part did not run. */
    List<Figure> figures() {
        List<Figure> f = new ArrayList<>();
        Shim j = Bench.JSHIM;
        Shim g = Bench.GO;
        if (!withStandby.isEmpty()) {
            f.add(new Figure("CRI pod start, a standby waits", "ms", withStandby.podStart(j).median(),
                    withStandby.podStart(g).median(), withStandby.podStart(j).p90(), withStandby.podStart(g).p90(),
                    true, 1.5, 1.15));
        }
        if (!cold.isEmpty()) {
            f.add(new Figure("CRI pod start, no standby (a node's first pod)", "ms", cold.podStart(j).median(),
                    cold.podStart(g).median(), cold.podStart(j).p90(), cold.podStart(g).p90(), true, Double.NaN,
                    Double.NaN));
        }
        String plus = "+%.0f MB standby/node".formatted(standby().pssMb());
        for (int pods : List.of(10, 50)) {
            if (memory.containsKey(new MemoryKey(j, pods))) {
                f.add(new Figure("CRI %d pods, PSS/pod (%s)".formatted(pods, plus), "MB",
                        steady(j, pods).pssMb() / pods, steady(g, pods).pssMb() / pods, Double.NaN, Double.NaN, false,
                        pods == 10 ? 18 : Double.NaN, pods == 10 ? 12 : Double.NaN));
            }
        }
        return f;
    }

    String text() {
        StringBuilder b = new StringBuilder();
        for (boolean standby : List.of(true, false)) {
            PodStarts p = podStarts(standby);
            if (p.isEmpty()) {
                continue;
            }
            b.append("%nCRI (containerd 1.6, host-network pods of one busybox container), %s, median (p90) ms:%n"
                    .formatted(standby ? "a standby waits (jshim cold starts adopted: %d of %d)"
                            .formatted(p.adopted, p.podStart(Bench.JSHIM).count()) : "no standby (JSHIM_STANDBY=0)"));
            b.append("%-8s %17s %17s %17s %17s%n".formatted("shim", "pod start", "RunPodSandbox", "CreateContainer",
                    "StartContainer"));
            for (Shim s : p.podStart.keySet()) {
                b.append("%-8s %17s %17s %17s %17s%n".formatted(s.name(), ms(p.podStart(s)), ms(p.runPodSandbox(s)),
                        ms(p.createContainer(s)), ms(p.startContainer(s))));
            }
        }
        if (!memory.isEmpty()) {
            b.append(("%nCRI shim memory (containerd keeps a jshim standby), steady state (from 12 s after the starts, once"
                    + " two readings 3 s apart agree within 1%%; RSS at 3 s beside it); the idle standby apart, paid once per node:%n").formatted());
            b.append("%-8s %6s %6s %10s %10s %10s %10s %8s %10s %10s %18s%n".formatted("shim", "pods", "procs",
                    "RSS MB", "RSS 3s MB", "RssAnon MB", "PSS MB", "threads", "RSS/pod", "PSS/pod",
                    "standby RSS/PSS"));
            memory.forEach((k, s) -> {
                ShimMemory m = s.steady();
                b.append("%-8s %6d %6d %10.1f %10.1f %10.1f %10.1f %8d %10.2f %10.2f %18s%n".formatted(
                        k.shim().name(), k.pods(), m.processes(), m.rssMb(), s.early().rssMb(), m.anonMb(), m.pssMb(),
                        m.threads(), m.rssMb() / k.pods(), m.pssMb() / k.pods(), "%.1f / %.1f MB".formatted(
                                s.standby().rssMb(), s.standby().pssMb())));
            });
            ShimMemory sb = standby();
            b.append(("the idle standby: %d process(es), RSS %.1f MB, PSS %.1f MB, %d threads (one per containerd and"
                    + " settings: a node pays it once, not per pod)%n").formatted(sb.processes(), sb.rssMb(),
                    sb.pssMb(), sb.threads()));
        }
        return b.toString();
    }

    private static String ms(Latencies l) {
        return "%.0f (%.0f)".formatted(l.median(), l.p90());
    }
}
