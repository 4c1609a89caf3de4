package io.jshim.test.cgroup2;

import com.google.gson.JsonObject;
import io.jshim.test.Busybox;
import io.jshim.test.CtrEvents;
import io.jshim.test.CtrTasks;
import io.jshim.test.PrivateContainerd;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The cgroup v2 checks, run inside the v2-only guest (scripts/cgroup2-guest.sh) by {@link CgroupV2GuestTest}:
 * a private containerd 1.6 with jshim, driven through ctr. Each check writes one line to {@code results.tsv}
 * ("name TAB PASS|FAIL TAB detail"); the host-side test turns every line into a test of its own.
 *
 * <p>Usage: {@code GuestChecks OUTDIR SHIM_BIN_DIR WORKDIR}
 */
public final class GuestChecks extends GuestBase {
    private final Path out;

    private GuestChecks(Path out, PrivateContainerd containerd, Path rootfs, Path work) {
        super(containerd, rootfs, work);
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Path bin = Path.of(args[1]);
        Path work = Files.createDirectories(Path.of(args[2]));
        Files.deleteIfExists(out.resolve("results.tsv"));
        long t0 = System.nanoTime();
        PrivateContainerd containerd = PrivateContainerd.start(work.resolve("cd"), bin.toString());
        figure(out, "containerd-up-ms", (System.nanoTime() - t0) / 1_000_000);
        Path rootfs = Busybox.rootfs(work.resolve("rootfs"));
        GuestChecks g = new GuestChecks(out, containerd, rootfs, work);
        OomChecks oom = new OomChecks(containerd, rootfs, work);
        try {
            g.check("layout", g::layout);
            g.check("stats", g::stats);
            g.check("oom-repeated", oom::oomRepeated);
            g.check("oom-child", oom::oomChild);
            g.check("memory-high-no-oom", oom::memoryHighNoOom);
            g.check("memory-events-local", oom::memoryEventsLocal);
            g.check("update", g::update);
            g.check("kill-all-shared-pidns", g::killAllSharedPidNamespace);
            g.check("cgroup-kill", g::cgroupKill);
            g.check("grouped-daemon", g::groupedDaemon);
            g.check("shim-cgroup", new ShimCgroupCheck(bin, work)::run);
        } finally {
            containerd.close();
            Files.writeString(out.resolve("containerd.log"), containerd.log());
        }
        figure(out, "checks-ms", (System.nanoTime() - t0) / 1_000_000);
    }

    interface Check {
        String run() throws Exception;
    }

    private void check(String name, Check c) throws IOException {
        long t0 = System.nanoTime();
        String outcome;
        String detail;
        try {
            detail = c.run();
            outcome = "PASS";
        } catch (Throwable t) {
            outcome = "FAIL";
            detail = t.toString();
            java.io.StringWriter trace = new java.io.StringWriter();
            t.printStackTrace(new java.io.PrintWriter(trace));
            System.err.println(name + ": " + trace);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String line = name + "\t" + outcome + "\t" + (detail + " (" + ms + " ms)").replaceAll("[\t\r\n]+", " ") + "\n";
        System.out.print(line);
        Files.writeString(out.resolve("results.tsv"), line, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    static void figure(Path out, String name, long value) throws IOException {
        Files.writeString(out.resolve("figures.txt"), name + " " + value + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    // ---- the checks ----

    /** cgroup2 at /sys/fs/cgroup, no v1 hierarchy, the controllers the other checks need enabled for children. */
    String layout() throws Exception {
        String mounts = Files.readString(Path.of("/proc/self/mounts"));
        require(mounts.lines().anyMatch(l -> l.matches("\\S+ /sys/fs/cgroup cgroup2 .*")), "cgroup2 at /sys/fs/cgroup");
        require(mounts.lines().noneMatch(l -> l.split(" ")[2].equals("cgroup")), "no cgroup v1 mount: " + mounts);
        String enabled = read(CGROUP_ROOT.resolve("cgroup.subtree_control"));
        for (String c : List.of("memory", "cpu", "io", "pids", "hugetlb")) {
            require((" " + enabled + " ").contains(" " + c + " "), c + " enabled for children: " + enabled);
        }
        return "kernel " + read(Path.of("/proc/sys/kernel/osrelease")) + ", controllers: " + enabled;
    }

    /** ctr task metrics decodes v2 Metrics; memory and cpu move when the container allocates and burns CPU. */
    String stats() throws Exception {
        String id = "stats-1";
        Path go = rootfs.resolve("go-stats");
        Files.deleteIfExists(go);
        run(id, "--memory-limit", Long.toString(256 * MIB), "sh", "-c",
                "while [ ! -e /go-stats ]; do sleep 0.1; done; exec dd if=/dev/zero of=/dev/null bs=48M");
        try {
            JsonObject before = metrics(id);
            for (String section : List.of("pids", "cpu", "memory")) {
                require(before.has(section), "section " + section + " in " + before);
            }
            require(u64(before, "memory", "usage_limit").equals(BigInteger.valueOf(256 * MIB)), "usage_limit 256 MiB: " + before);
            require(u64(before, "pids", "current").signum() > 0, "pids.current: " + before);
            require(u64(before, "pids", "limit").equals(new BigInteger("18446744073709551615")),
                    "pids.limit is max (u64) without a limit: " + before);
            Files.createFile(go);
            JsonObject[] after = new JsonObject[1];
            await("anon >= 48 MiB and 300 ms more CPU", 120, () -> {
                after[0] = metricsUnchecked(id);
                return u64(after[0], "memory", "anon").compareTo(BigInteger.valueOf(48 * MIB)) >= 0
                        && u64(after[0], "cpu", "usage_usec").subtract(u64(before, "cpu", "usage_usec"))
                        .compareTo(BigInteger.valueOf(300_000)) >= 0;
            });
            JsonObject a = after[0];
            require(u64(a, "memory", "usage").compareTo(u64(before, "memory", "usage")) > 0, "memory.usage moved");
            require(u64(a, "cpu", "user_usec").add(u64(a, "cpu", "system_usec")).signum() > 0, "user+system");
            require(a.has("io"), "io section");
            int hugeSizes = hugePageSizes();
            int hugetlb = a.has("hugetlb") ? a.getAsJsonArray("hugetlb").size() : 0;
            require(hugetlb == hugeSizes, "one hugetlb entry per page size (" + hugeSizes + "): " + a.get("hugetlb"));
            assertDaemonOutsideContainer(id);
            return "before: usage=" + u64(before, "memory", "usage") + " cpu=" + u64(before, "cpu", "usage_usec")
                    + "us; after: usage=" + u64(a, "memory", "usage") + " anon=" + u64(a, "memory", "anon")
                    + " file=" + u64(a, "memory", "file") + " cpu=" + u64(a, "cpu", "usage_usec") + "us user="
                    + u64(a, "cpu", "user_usec") + " system=" + u64(a, "cpu", "system_usec") + " pids="
                    + u64(a, "pids", "current") + " hugetlb sizes=" + hugetlb + " io entries="
                    + (a.getAsJsonObject("io").has("usage") ? a.getAsJsonObject("io").getAsJsonArray("usage").size() : 0);
        } finally {
            kill(id);
        }
    }

    /** Update of memory, cpu and pids on a running container: in memory.max, cpu.max, pids.max and in Stats. */
    String update() throws Exception {
        String id = "update-1";
        run(id, "--memory-limit", Long.toString(64 * MIB), "sleep", "1000");
        try {
            Path cg = cgroupOf(id);
            require(read(cg.resolve("memory.max")).equals(Long.toString(64 * MIB)), "memory.max before");
            ShimUpdate.update(containerd, id, "{\"memory\":{\"limit\":" + (128 * MIB) + "},"
                    + "\"cpu\":{\"quota\":50000,\"period\":100000},\"pids\":{\"limit\":64}}");
            String memoryMax = read(cg.resolve("memory.max"));
            String cpuMax = read(cg.resolve("cpu.max"));
            String pidsMax = read(cg.resolve("pids.max"));
            require(memoryMax.equals(Long.toString(128 * MIB)), "memory.max " + memoryMax);
            require(cpuMax.equals("50000 100000"), "cpu.max " + cpuMax);
            require(pidsMax.equals("64"), "pids.max " + pidsMax);
            JsonObject m = metrics(id);
            require(u64(m, "memory", "usage_limit").equals(BigInteger.valueOf(128 * MIB)), "Stats memory.usage_limit: " + m);
            require(u64(m, "pids", "limit").equals(BigInteger.valueOf(64)), "Stats pids.limit: " + m);
            return "memory.max=" + memoryMax + " cpu.max=" + cpuMax + " pids.max=" + pidsMax;
        } finally {
            kill(id);
        }
    }

    /**
     * The init of a container in the host's PID namespace dies; jshim runs kill --all and publishes its exit only
     * once the cgroup is empty (cgroup.events "populated 0").
     */
    String killAllSharedPidNamespace() throws Exception {
        String id = "killall-1";
        Path ready = rootfs.resolve("killall-ready");
        Files.deleteIfExists(ready);
        try (CtrEvents events = CtrEvents.start(containerd, work.resolve("events-killall.txt"))) {
            run(id, "--with-ns=pid:/proc/1/ns/pid", "sh", "-c",
                    "sleep 1000 & sleep 1000 & sleep 1000 & touch /killall-ready; exec sleep 1000");
            await("the background sleeps run", 60, () -> Files.exists(ready));
            Path cg = cgroupOf(id);
            int before = read(cg.resolve("cgroup.procs")).lines().toList().size();
            require(before >= 4, "init and three children in cgroup.procs: " + before);
            containerd.ctrOk("task", "kill", "-s", "KILL", id); // the init only
            await("/tasks/exit for " + id, 60, () -> topics(events, id).contains("/tasks/exit"));
            // the exit was published: nothing of the container may be left
            String procs = Files.exists(cg) ? read(cg.resolve("cgroup.procs")) : "";
            String populated = Files.exists(cg) ? read(cg.resolve("cgroup.events")) : "(removed)";
            require(procs.isEmpty(), "cgroup.procs empty when the exit is published: " + procs);
            require(!populated.contains("populated 1"), "cgroup.events: " + populated);
            int status = CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctrOk("container", "rm", id);
            return before + " processes, exit " + status + ", cgroup.events at exit: " + populated.replace('\n', ' ');
        }
    }

    /** cgroup.kill (kernel >= 5.14): present on the container's cgroup; whether this runc uses it for kill --all. */
    String cgroupKill() throws Exception {
        String id = "cgkill-1";
        run(id, "--with-ns=pid:/proc/1/ns/pid", "sh", "-c", "sleep 1000 & sleep 1000 & exec sleep 1000");
        try {
            Path cg = cgroupOf(id);
            require(Files.exists(cg.resolve("cgroup.kill")), "cgroup.kill on kernel " + read(Path.of("/proc/sys/kernel/osrelease")));
            long t0 = System.nanoTime();
            containerd.ctrOk("task", "kill", "--all", "-s", "KILL", id);
            int status = CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctrOk("container", "rm", id);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            require(status == 137, "exit 137: " + status);
            require(!Files.exists(cg) || read(cg.resolve("cgroup.procs")).isEmpty(), "cgroup empty");
            boolean runcUses = new String(Files.readAllBytes(Path.of(which("runc"))), StandardCharsets.ISO_8859_1)
                    .contains("cgroup.kill");
            String shimUsed = "[killall-1] killed what is left through cgroup.kill";
            require(containerd.log().contains(shimUsed), "jshim's kill-all at the init's exit of killall-1 went through"
                    + " cgroup.kill (\"" + shimUsed + "\" in its log)");
            return "cgroup.kill present; jshim used it at killall-1's init exit; runc " + (runcUses ? "uses" : "does not use")
                    + " it for ctr task kill --all (" + ms + " ms to deleted)";
        } finally {
            kill(id);
        }
    }

    /** Two containers of one group share one daemon, which is in neither container's cgroup. */
    String groupedDaemon() throws Exception {
        String group = "io.containerd.runc.v2.group=g2";
        run("group-a", "--annotation=" + group, "sleep", "1000");
        run("group-b", "--annotation=" + group, "sleep", "1000");
        try {
            String a = Files.readString(bundle("group-a").resolve("address"));
            String b = Files.readString(bundle("group-b").resolve("address"));
            require(a.equals(b), "one address for the group: " + a + " / " + b);
            int daemon = daemonPid("group-a"); // a warm start into a live group writes no shim.pid
            String daemonCgroup = unifiedPath(daemon);
            String containerd = unifiedPath(this.containerd.pid().orElseThrow());
            require(daemonCgroup.equals(containerd), "the daemon stays in the cgroup containerd started it in ("
                    + containerd + "): " + daemonCgroup);
            assertDaemonOutsideContainer("group-a", daemon);
            assertDaemonOutsideContainer("group-b", daemon);
            return "daemon " + daemon + " in " + daemonCgroup + "; containers in " + cgroupOf("group-a") + ", " + cgroupOf("group-b");
        } finally {
            kill("group-a");
            kill("group-b");
        }
    }

}
