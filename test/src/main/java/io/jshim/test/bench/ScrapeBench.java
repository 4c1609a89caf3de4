package io.jshim.test.bench;

import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.jshim.test.Busybox;
import io.jshim.test.CtrTasks;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import io.jshim.ttrpc.TtrpcClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What one scrape of a daemon holding {@code n} containers costs: {@code n} containers of one group under a private
 * containerd 1.6 (one jshim daemon), then {@code jshim.metrics.v1.Metrics/Get} over its ttrpc socket: the first Get
 * (it loads the metrics code), then {@link #SCRAPES} more, timed at the client, with the daemon's CPU time
 * (utime + stime of /proc/<pid>/stat) over them. Run alone with {@code scripts/bench.sh} replaced by
 * {@code java ... io.jshim.test.bench.ScrapeBench [n]}, or as part of {@code make bench} ({@link Bench}).
 */
public final class ScrapeBench {
    static final int SCRAPES = 200;
    static final String GROUP = "io.containerd.runc.v2.group";
    private static final Duration CALL = Duration.ofSeconds(30);

    /** The figures of one run. */
    record Figures(int containers, double firstMs, double medianMs, double p90Ms, double cpuMsPerScrape,
            int bytes, long samples) {
        String text() {
            return ("one scrape of a daemon with %d containers: first Get %.1f ms; then median %.2f ms, p90 %.2f ms "
                    + "(client-side), daemon CPU %.2f ms per scrape (%d scrapes); %d bytes, %d samples")
                    .formatted(containers, firstMs, medianMs, p90Ms, cpuMsPerScrape, SCRAPES, bytes, samples);
        }
    }

    private ScrapeBench() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        Path dir = Files.createTempDirectory("jshim-scrape");
        try {
            Path bin = InstalledShim.install(dir.resolve("install"));
            System.out.println(measure(dir, bin, Busybox.rootfs(dir.resolve("rootfs")), n).text());
        } finally {
            Bench.deleteTree(dir);
        }
        System.exit(0);
    }

    static Figures measure(Path dir, Path bin, Path rootfs, int n) throws Exception {
        try (PrivateContainerd containerd = PrivateContainerd.start(dir.resolve("cd-scrape"), bin.toString())) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add("scrape-" + i);
            }
            // the first alone (it starts the daemon), the rest four at a time into its group
            containerd.ctrOk(run(rootfs, ids.getFirst()));
            ExecutorService pool = Executors.newFixedThreadPool(Bench.PARALLEL);
            try {
                List<Future<String>> runs = new ArrayList<>();
                for (String id : ids.subList(1, n)) {
                    runs.add(pool.submit(() -> containerd.ctrOk(run(rootfs, id))));
                }
                for (Future<String> f : runs) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            Path bundle = containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace())
                    .resolve(ids.getFirst());
            String address = Files.readString(bundle.resolve("address")).trim();
            int pid = Integer.parseInt(Files.readString(bundle.resolve("shim.pid")).trim());
            Path socket = Path.of(address.replaceFirst("^unix://", ""));
            try (TtrpcClient client = TtrpcClient.connect(socket, Duration.ofSeconds(5))) {
                long t = System.nanoTime();
                String first = get(client);
                double firstMs = (System.nanoTime() - t) / 1e6;
                double[] ms = new double[SCRAPES];
                long cpu0 = cpuTicks(pid);
                for (int i = 0; i < SCRAPES; i++) {
                    long s = System.nanoTime();
                    get(client);
                    ms[i] = (System.nanoTime() - s) / 1e6;
                }
                long cpu1 = cpuTicks(pid);
                Arrays.sort(ms);
                long samples = first.lines().filter(l -> !l.startsWith("#")).count();
                double cpuMs = (cpu1 - cpu0) * 1000.0 / 100 / SCRAPES; // USER_HZ is 100 on Linux
                return new Figures(n, firstMs, ms[SCRAPES / 2], ms[SCRAPES * 9 / 10], cpuMs, first.length(), samples);
            } finally {
                for (String id : ids) {
                    containerd.ctr("task", "kill", "-s", "KILL", id);
                }
                for (String id : ids) {
                    CtrTasks.awaitStoppedAndDelete(containerd, id);
                    containerd.ctr("container", "rm", id);
                }
            }
        }
    }

    private static String[] run(Path rootfs, String id) {
        return CtrTasks.run(rootfs, id, "-d", "--annotation", GROUP + "=scrape-pod", "sleep", "100000");
    }

    private static String get(TtrpcClient client) throws Exception {
        return client.call("jshim.metrics.v1.Metrics", "Get", GetRequest.getDefaultInstance(), GetResponse.parser(),
                CALL, Map.of()).getText();
    }

    /** utime + stime of {@code pid}, in clock ticks (proc(5)). */
    private static long cpuTicks(int pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15, counted from field 3
    }
}
