package io.jshim.test.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.jshim.reaper.CommandResult;
import io.jshim.test.Busybox;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * {@code make bench}: jshim against Debian's {@code containerd-shim-runc-v2} under one private containerd, taken
 * in turns (A B A B ...) so both see the same machine: latency of a cold and a warm {@code ctr run --rm /bin/true}
 * and of {@code ctr task exec /bin/true}, and the memory of the shim processes with 1, 10 and 100 containers;
 * then Kubernetes pods through containerd's CRI plugin ({@link CriBench}): pod start with and without a warm standby,
 * and memory with 10 and 50 pods beside the standby's own.
 * Prints the table and writes it as text and as a PNG chart. A benchmark, not a test: it fails on nothing
 * but a broken run.
 *
 * <p>System properties: {@code jshim.bench.rounds} (default 15), {@code jshim.bench.out} (default
 * {@code test/target/bench}), {@code jshim.bench.full} (also 100 containers ungrouped, one JVM each),
 * {@code jshim.bench.ctr}, {@code jshim.bench.cri} and {@code jshim.bench.scrape} ({@code false}: leave that part out), {@code jshim.bench.cri.pods} (default {@code 10,50}).
 */
public final class Bench {
    record Shim(String name, String runtime) {}

    static final Shim JSHIM = new Shim("jshim", "io.containerd.jshim.v2");
    static final Shim GO = new Shim("runc-v2", "io.containerd.runc.v2");
    static final String GROUP = "io.containerd.runc.v2.group";
    static final int PARALLEL = 4;
    private static final long EARLY_SAMPLE_MS = 3_000;
    static final long STEADY_SAMPLE_MS = 12_000;
    private static final long STEADY_STEP_MS = 3_000;
    private static final long STEADY_MAX_MS = 60_000;

    private final PrivateContainerd containerd;
    private final Path rootfs;
    private int seq;

    private Bench(PrivateContainerd containerd, Path rootfs) {
        this.containerd = containerd;
        this.rootfs = rootfs;
    }

    public static void main(String[] args) throws Exception {
        ((LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory()).getLogger("ROOT").setLevel(Level.WARN);
        int rounds = Integer.getInteger("jshim.bench.rounds", 15);
        boolean full = Boolean.getBoolean("jshim.bench.full");
        Path out = Path.of(System.getProperty("jshim.bench.out", "test/target/bench")).toAbsolutePath();
        Files.createDirectories(out);
        Path dir = Files.createTempDirectory("jshim-bench");
        int status = 0;
        try {
            say("installing jshim into " + dir + " (scripts/install.sh, with its AOT cache)");
            long t = System.nanoTime();
            Path bin = InstalledShim.install(dir.resolve("install"));
            say("installed in %d ms".formatted((System.nanoTime() - t) / 1_000_000));
            Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
            Report report = new Report(rounds);
            if (!System.getProperty("jshim.bench.ctr", "true").equals("false")) {
                try (PrivateContainerd containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString());
                        PrivateContainerd standbys = PrivateContainerd.start(dir.resolve("cds"), true, bin.toString())) {
                    report = new Bench(containerd, rootfs).measure(rounds, full);
                    new Bench(standbys, rootfs).measureStandby(report, rounds);
                }
            }
            if (!System.getProperty("jshim.bench.cri", "true").equals("false")) {
                CriBench.measure(report.cri, dir.resolve("cri"), bin, rounds, criPods());
            }
            String text = report.text();
            if (!System.getProperty("jshim.bench.scrape", "true").equals("false")) {
                text += ScrapeBench.measure(dir, bin, rootfs, 100).text() + "\n"; // docs/performance.md, metrics
            }
            System.out.println(text);
            Files.writeString(out.resolve("bench.txt"), text);
            BenchChart.write(report, out.resolve("bench.png"));
            say("wrote " + out.resolve("bench.txt") + " and " + out.resolve("bench.png"));
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        } finally {
            deleteTree(dir);
        }
        System.exit(status);
    }

    /** {@code jshim.bench.cri.pods}: the pod counts of the CRI memory figures. */
    private static List<Integer> criPods() {
        return Stream.of(System.getProperty("jshim.bench.cri.pods", "10,50").split(",")).map(String::trim)
                .filter(n -> !n.isEmpty()).map(Integer::valueOf).toList();
    }

    Report measure(int rounds, boolean full) throws Exception {
        Report r = new Report(rounds);
        List<Shim> shims = List.of(JSHIM, GO);
        say("warming up containerd and the page cache");
        for (Shim s : shims) {
            runRm(s, null);
        }
        say("cold ctr run --rm /bin/true, %d rounds, A B A B ...".formatted(rounds));
        for (int i = 0; i < rounds; i++) {
            for (Shim s : order(shims, i)) {
                awaitNoShims();
                r.cold(s).add(runRm(s, null));
            }
        }
        say("warm ctr run --rm /bin/true and ctr task exec /bin/true into a live group, %d rounds".formatted(rounds));
        Map<Shim, String> pods = new LinkedHashMap<>();
        for (Shim s : shims) {
            String pod = "pod-" + s.name() + "-" + (++seq);
            containerd.ctrOk(run(s, pod, pod, "-d", "/bin/sleep", "100000"));
            pods.put(s, pod);
        }
        for (Shim s : shims) { // a first join and exec, not counted
            runRm(s, pods.get(s));
            exec(pods.get(s));
        }
        for (int i = 0; i < rounds; i++) {
            for (Shim s : order(shims, i)) {
                r.warm(s).add(runRm(s, pods.get(s)));
                r.exec(s).add(exec(pods.get(s)));
            }
        }
        for (Shim s : shims) {
            remove(List.of(pods.get(s)));
        }
        awaitNoShims();
        record Setup(int containers, boolean grouped) {}
        List<Setup> setups = new ArrayList<>(List.of(new Setup(1, false), new Setup(10, true), new Setup(10, false),
                new Setup(100, true)));
        if (full) {
            setups.add(new Setup(100, false));
        }
        for (Setup setup : setups) {
            for (Shim s : shims) {
                say("memory: %s, %d container(s)%s".formatted(s.name(), setup.containers(),
                        setup.containers() == 1 ? "" : setup.grouped() ? " in one group" : ", one shim each"));
                r.memory(s, setup.containers(), setup.grouped(), memory(s, setup.containers(), setup.grouped()));
            }
        }
        return r;
    }

    /**
     * Under a containerd whose jshim keeps a warm standby: the cold start that hands its group to the standby
     * (each jshim round waits for the next standby to be ready, as a pod started a while after the last one finds
     * it), and the idle standby's own memory.
     */
    void measureStandby(Report r, int rounds) throws Exception {
        List<Shim> shims = List.of(JSHIM, GO);
        say("cold ctr run --rm /bin/true with a warm standby, %d rounds, A B A B ...".formatted(rounds));
        for (Shim s : shims) {
            runRm(s, null); // boots the first standby
        }
        for (int i = 0; i < rounds; i++) {
            for (Shim s : order(shims, i)) {
                if (s == JSHIM) {
                    awaitStandby();
                }
                awaitNoShims();
                r.coldStandby(s).add(runRm(s, null));
            }
        }
        awaitStandby();
        Thread.sleep(STEADY_SAMPLE_MS); // its periodic clean-ups run, as for the shims' steady state
        r.standby(ShimMemory.of(ShimMemory.standbyPids(containerd.socket())));
    }

    private void awaitStandby() throws Exception {
        awaitStandby(containerd.socket());
    }

    /** Until jshim's standby for the containerd at {@code socket} listens on its control socket (60 s at most). */
    static void awaitStandby(Path socket) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!standbyListens(socket)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no standby ready within 60 s");
            }
            Thread.sleep(10);
        }
    }

    private static boolean standbyListens(Path socket) throws IOException {
        for (int pid : ShimMemory.standbyPids(socket)) {
            List<String> args;
            try { // between the execs that boot it (perl, setsid, chrt, java) it may have no command line
                args = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
            } catch (IOException gone) {
                continue;
            }
            if (args.size() < 3 || !args.get(args.size() - 3).equals("standby")) {
                continue;
            }
            String control = args.get(args.size() - 2);
            if (Files.readString(Path.of("/proc/net/unix")).lines()
                    .anyMatch(l -> l.endsWith(" " + control) && l.contains(" 00010000 0001 01 "))) {
                return true;
            }
        }
        return false;
    }

    /** A B, then B A: neither shim always goes first after the other's leftovers. */
    private static List<Shim> order(List<Shim> shims, int round) {
        return round % 2 == 0 ? shims : shims.reversed();
    }

    /** {@code ctr run --rm ... /bin/true}, joining {@code group} when given; its wall time in ns. */
    private long runRm(Shim s, String group) throws Exception {
        String id = (group == null ? "cold-" : "warm-") + s.name() + "-" + (++seq);
        String[] argv = run(s, id, group, "--rm", "/bin/true");
        long t0 = System.nanoTime();
        ok(containerd.ctr(argv), argv);
        return System.nanoTime() - t0;
    }

    private long exec(String container) throws Exception {
        String[] argv = {"task", "exec", "--exec-id", "x" + (++seq), container, "/bin/true"};
        long t0 = System.nanoTime();
        ok(containerd.ctr(argv), argv);
        return System.nanoTime() - t0;
    }

    private String[] run(Shim s, String id, String group, String... flagsThenCommand) {
        List<String> a = new ArrayList<>(List.of("run", "--runtime", s.runtime(), "--rootfs", "--env", "PATH=/bin"));
        if (group != null) {
            a.addAll(List.of("--annotation", GROUP + "=" + group));
        }
        int i = 0;
        while (i < flagsThenCommand.length && flagsThenCommand[i].startsWith("-")) {
            a.add(flagsThenCommand[i++]);
        }
        a.add(rootfs.toString());
        a.add(id);
        a.addAll(List.of(flagsThenCommand).subList(i, flagsThenCommand.length));
        return a.toArray(String[]::new);
    }

    /** A setup's shim memory 3 s after its containers started and in the steady state (12 s). */
    record MemorySample(ShimMemory early, ShimMemory steady) {}

    private MemorySample memory(Shim s, int containers, boolean grouped) throws Exception {
        String group = grouped ? "wide-" + s.name() + "-" + (++seq) : null;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < containers; i++) {
            ids.add("mem-" + s.name() + "-" + (++seq));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(PARALLEL)) {
            List<Future<?>> started = new ArrayList<>();
            for (String id : ids) {
                started.add(pool.submit(() -> {
                    String[] argv = run(s, id, group, "-d", "/bin/sleep", "100000");
                    return ok(containerd.ctr(argv), argv);
                }));
            }
            for (Future<?> f : started) {
                f.get();
            }
        }
        MemorySample sample = sampleMemory(containerd.socket());
        remove(ids);
        awaitNoShims();
        return sample;
    }

    /** The memory of the shims of the containerd at {@code socket}, started just now. */
    static MemorySample sampleMemory(Path socket) throws InterruptedException {
        Thread.sleep(EARLY_SAMPLE_MS); // start-up garbage collected, the compiler mostly idle
        ShimMemory early = ShimMemory.of(socket);
        return new MemorySample(early, steady(() -> ShimMemory.of(socket), EARLY_SAMPLE_MS));
    }

    /**
     * The steady state a node pays for as long as the containers run: not before 12 s after the starts, when a
     * JVM's periodic clean-ups (every 5 s: the compiler's arena pool freed, malloc trimmed) have run twice; and, on
     * a loaded machine where the JVMs are still compiling then, not before two readings 3 s apart agree within 1%
     * (at most 60 s after the starts).
     */
    static ShimMemory steady(java.util.function.Supplier<ShimMemory> read, long alreadyWaitedMs)
            throws InterruptedException {
        Thread.sleep(STEADY_SAMPLE_MS - alreadyWaitedMs);
        ShimMemory last = read.get();
        for (long waited = STEADY_SAMPLE_MS; waited < STEADY_MAX_MS; waited += STEADY_STEP_MS) {
            Thread.sleep(STEADY_STEP_MS);
            ShimMemory next = read.get();
            boolean settled = Math.abs(next.rssKb() - last.rssKb()) <= last.rssKb() / 100
                    && Math.abs(next.pssKb() - last.pssKb()) <= last.pssKb() / 100;
            last = next;
            if (settled) {
                break;
            }
        }
        return last;
    }

    private void remove(List<String> ids) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(PARALLEL)) {
            List<Future<?>> done = new ArrayList<>();
            for (String id : ids) {
                done.add(pool.submit(() -> {
                    containerd.ctr("task", "rm", "-f", id);
                    return ok(containerd.ctr("container", "rm", id), "container", "rm", id);
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    /** The cold figure is taken with no shim of this containerd alive (the previous one may still be exiting). */
    private void awaitNoShims() throws InterruptedException {
        awaitNoShims(containerd.socket());
    }

    static void awaitNoShims(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!ShimMemory.shimPids(socket).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("shims still alive after 20 s: " + ShimMemory.shimPids(socket));
            }
            Thread.sleep(10);
        }
    }

    private static CommandResult ok(CommandResult r, String... argv) {
        if (r.status() != 0) {
            throw new IllegalStateException("ctr " + String.join(" ", argv) + " failed (" + r.status() + "): "
                    + r.stderrText() + r.stdoutText());
        }
        return r;
    }

    static void say(String line) {
        System.err.println("bench: " + line);
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a mount left behind by a failed run: reported below
                }
            });
        } catch (IOException ignored) {
            // nothing there
        }
        if (Files.exists(dir)) {
            say("could not remove all of " + dir);
        }
    }
}
