package io.jshim.test.bench;

import io.jshim.test.bench.Bench.Shim;
import io.jshim.test.cri.CriClient;
import io.jshim.test.cri.CriContainerd;
import io.jshim.test.cri.v1.PodSandboxConfig;
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
 * Memory is the shims' with 10 and 50 such pods.
 */
final class CriBench {
    static final Map<Shim, String> HANDLERS = Map.of(Bench.JSHIM, CriContainerd.JSHIM, Bench.GO, CriContainerd.RUNC);

    private final CriContainerd cri;
    private final CriClient client;
    private int seq;

    private CriBench(CriContainerd cri) {
        this.cri = cri;
        this.client = cri.client();
    }

    /** Starts a CRI containerd in {@code dir} ({@code bin}: where the installed jshim is) and measures into {@code r}. */
    static void measure(CriFigures r, Path dir, Path bin, int rounds, List<Integer> podCounts) throws Exception {
        Bench.say("CRI: containerd with its CRI plugin, pause and busybox images imported into k8s.io");
        try (CriContainerd cri = CriContainerd.start(dir, bin.toString())) {
            new CriBench(cri).run(r, rounds, podCounts);
        }
    }

    private void run(CriFigures r, int rounds, List<Integer> podCounts) throws Exception {
        List<Shim> shims = List.of(Bench.JSHIM, Bench.GO);
        for (Shim s : shims) { // first pods: page cache, containerd's own warm-up; not counted
            removePods(List.of(startPod(s, null).pod()));
            awaitNoShims();
        }
        Bench.say("CRI pod start (RunPodSandbox + CreateContainer + StartContainer), %d rounds, A B A B ..."
                .formatted(rounds));
        for (int i = 0; i < rounds; i++) {
            for (Shim s : i % 2 == 0 ? shims : shims.reversed()) {
                Started p = startPod(s, r);
                removePods(List.of(p.pod()));
                awaitNoShims();
            }
        }
        for (int pods : podCounts) {
            for (Shim s : shims) {
                Bench.say("CRI memory: %s, %d pods of one container".formatted(s.name(), pods));
                r.memory(s, pods, memory(s, pods));
            }
        }
    }

    record Started(String pod, String container) {}

    /** One pod of one {@code sleep} container; its three calls timed into {@code r} when given. */
    private Started startPod(Shim s, CriFigures r) {
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

    private Bench.MemorySample memory(Shim s, int pods) throws Exception {
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
        Bench.MemorySample sample = Bench.sampleMemory(cri.socket());
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
