package io.jshim.test.bench;

import io.jshim.test.bench.Bench.Shim;
import io.jshim.test.cri.CriClient;
import io.jshim.test.cri.CriContainerd;
import io.jshim.test.cri.v1.PodSandboxConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The bench's Kubernetes part: pods through containerd 1.6's CRI plugin, as the kubelet starts them, under the
 * {@code jshim} runtime handler and under {@code runc} (containerd-shim-runc-v2), in turns. A pod start is
 * RunPodSandbox (which starts the pod's shim and its pause container) + CreateContainer + StartContainer of one
 * busybox container; each round starts a pod with no shim of the containerd alive, as a node's next pod does.
 * Twice: under a containerd whose jshim keeps no standby (JSHIM_STANDBY=0: every jshim pod boots a JVM, as the
 * first pod on a node does), and under one that keeps a warm standby (the default), where each jshim round first
 * waits until the standby the previous start booted is ready, as a pod started a while after the last one finds
 * it. Memory is the shims' with 10 and 50 such pods under the second, the idle standby's own measured beside.
 */
final class CriBench {
    static final Map<Shim, String> HANDLERS = Map.of(Bench.JSHIM, CriContainerd.JSHIM, Bench.GO, CriContainerd.RUNC);
    private static final long EARLY_SAMPLE_MS = 3_000;

    private final CriContainerd cri;
    private final CriClient client;
    private final boolean standby;
    private final Path launchLog;
    private int seq;

    private CriBench(CriContainerd cri, boolean standby, Path launchLog) {
        this.cri = cri;
        this.client = cri.client();
        this.standby = standby;
        this.launchLog = launchLog;
    }

    /** Starts the CRI containerds in {@code dir} ({@code bin}: where the installed jshim is) and measures into {@code r}. */
    static void measure(CriFigures r, Path dir, Path bin, int rounds, List<Integer> podCounts) throws Exception {
        for (boolean standby : List.of(false, true)) {
            Bench.say("CRI, %s: containerd with its CRI plugin, pause and busybox images imported into k8s.io"
                    .formatted(standby ? "jshim keeps a warm standby" : "no standby (JSHIM_STANDBY=0)"));
            Path d = dir.resolve(standby ? "standby" : "cold");
            Files.createDirectories(d);
            Path launchLog = d.resolve("launch.log");
            try (CriContainerd cri = CriContainerd.start(d, standby, Map.of("JSHIM_LAUNCH_LOG", launchLog.toString()),
                    bin.toString())) {
                CriBench b = new CriBench(cri, standby, launchLog);
                b.podStarts(r.podStarts(standby), rounds);
                if (standby) {
                    b.memory(r, podCounts);
                }
            }
        }
    }

    private void podStarts(CriFigures.PodStarts r, int rounds) throws Exception {
        List<Shim> shims = List.of(Bench.JSHIM, Bench.GO);
        for (Shim s : shims) { // first pods: page cache, containerd's own warm-up (and the first standby); not counted
            removePods(List.of(startPod(s, null).pod()));
            awaitNoShims();
        }
        Bench.say("CRI pod start (RunPodSandbox + CreateContainer + StartContainer), %s, %d rounds, A B A B ..."
                .formatted(standby ? "a standby waits" : "no standby", rounds));
        for (int i = 0; i < rounds; i++) {
            for (Shim s : i % 2 == 0 ? shims : shims.reversed()) {
                if (standby && s == Bench.JSHIM) {
                    Bench.awaitStandby(cri.socket());
                }
                int adoptedBefore = adopted();
                Started p = startPod(s, r);
                if (s == Bench.JSHIM && adopted() > adoptedBefore) {
                    r.adopted++;
                }
                removePods(List.of(p.pod()));
                awaitNoShims();
            }
        }
    }

    /** How many cold starts the launcher handed to a standby so far (its launch log says "adopted"). */
    private int adopted() throws IOException {
        if (!Files.exists(launchLog)) {
            return 0;
        }
        return (int) Files.readAllLines(launchLog).stream().filter(l -> l.endsWith(" adopted")).count();
    }

    record Started(String pod, String container) {}

    /** One pod of one {@code sleep} container; its three calls timed into {@code r} when given. */
    private Started startPod(Shim s, CriFigures.PodStarts r) {
        PodSandboxConfig config = CriContainerd.hostNetworkPod("bench-" + s.name() + "-" + (++seq));
        long t0 = System.nanoTime();
        String pod = client.runPodSandbox(config, HANDLERS.get(s));
        long t1 = System.nanoTime();
        String container = client.createContainer(pod, cri.container("sleep", "sleep", "100000"), config);
        long t2 = System.nanoTime();
        client.startContainer(container);
        long t3 = System.nanoTime();
        if (r != null) {
            r.podStart(s).add(t3 - t0);
            r.runPodSandbox(s).add(t1 - t0);
            r.createContainer(s).add(t2 - t1);
            r.startContainer(s).add(t3 - t2);
        }
        return new Started(pod, container);
    }

    private void memory(CriFigures r, List<Integer> podCounts) throws Exception {
        for (int pods : podCounts) {
            for (Shim s : List.of(Bench.JSHIM, Bench.GO)) {
                Bench.say("CRI memory: %s, %d pods of one container".formatted(s.name(), pods));
                r.memory(s, pods, memory(s, pods));
            }
        }
    }

    /**
     * The shims' memory 3 s after {@code pods} pods started and in the steady state (12 s, as {@link Bench}'s), and
     * jshim's idle standby at that moment, apart.
     */
    private CriFigures.Sample memory(Shim s, int pods) throws Exception {
        List<String> started = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Bench.PARALLEL)) {
            List<Future<Started>> futures = new ArrayList<>();
            for (int i = 0; i < pods; i++) {
                futures.add(pool.submit(() -> startPod(s, null)));
            }
            for (Future<Started> f : futures) {
                started.add(f.get().pod());
            }
        }
        Thread.sleep(EARLY_SAMPLE_MS);
        ShimMemory early = ShimMemory.of(cri.socket());
        ShimMemory steady = Bench.steady(() -> ShimMemory.of(cri.socket()), EARLY_SAMPLE_MS);
        CriFigures.Sample sample = new CriFigures.Sample(early, steady,
                ShimMemory.of(ShimMemory.standbyPids(cri.socket())));
        removePods(started);
        awaitNoShims();
        return sample;
    }

    private void removePods(List<String> pods) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(Bench.PARALLEL)) {
            List<Future<?>> done = new ArrayList<>();
            for (String pod : pods) {
                done.add(pool.submit(() -> {
                    client.stopPodSandbox(pod);
                    client.removePodSandbox(pod);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    private void awaitNoShims() throws InterruptedException {
        Bench.awaitNoShims(cri.socket());
    }
}
