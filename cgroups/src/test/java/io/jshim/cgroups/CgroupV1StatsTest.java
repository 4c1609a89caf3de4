package io.jshim.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jshim.proto.wkt.Any;

import io.jshim.proto.cgroups.v1.BlkIOEntry;
import io.jshim.proto.cgroups.v1.Metrics;
import io.jshim.reaper.Child;
import io.jshim.reaper.Exit;
import io.jshim.reaper.Posix;

/** cgroup v1 Stats against the real kernel, in cgroups this test creates. */
class CgroupV1StatsTest {

    private static final long MIB = 1024 * 1024;

    @BeforeAll
    static void v1Host() {
        assumeTrue(ScratchCgroups.v1Available(), "needs cgroup v1 memory hierarchy");
    }

    @Test
    void statsOfABusyProcessShowItsUsageAndLimits(@TempDir Path tmp) throws Exception {
        try (ScratchCgroups cg = new ScratchCgroups("memory", "cpu", "cpuacct", "pids", "blkio")) {
            cg.write("memory", "memory.limit_in_bytes", Long.toString(64 * MIB));
            cg.write("pids", "pids.max", "50");
            cg.write("cpu", "cpu.cfs_quota_us", "50000"); // half a CPU: the busy loop gets throttled
            Path ready = tmp.resolve("ready");
            Child child = cg.spawnShell(cg.enterAll()
                    + "x=$(head -c 4000000 /dev/zero | tr '\\0' a); " // ~4 MB of anonymous memory
                    + "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; : > " + ready + "; exec sleep 60");
            waitFor(() -> Files.exists(ready) || child.onExit().isDone(), Duration.ofSeconds(20));
            assertFalse(child.onExit().isDone(), "child exited early: " + child.onExit().getNow(null));

            Cgroup found = Cgroup.forPid(child.pid());
            CgroupV1 v1 = assertInstanceOf(CgroupV1.class, found);
            assertEquals(cg.dir("memory"), v1.dir("memory").orElseThrow());
            assertEquals(cg.dir("cpuacct"), v1.dir("cpuacct").orElseThrow());
            assertEquals(cg.dir("pids"), v1.dir("pids").orElseThrow());
            assertTrue(found.exists());

            Any any = found.stats();
            assertEquals("io.containerd.cgroups.v1.Metrics", any.getTypeUrl());
            // memory.stat counters are flushed from per-CPU batches lazily (at most ~2 s late)
            waitFor(() -> {
                var mem = Metrics.parseFrom(found.stats().getValue()).getMemory();
                return mem.getRss() + mem.getCache() > 0 && mem.getPgFault() > 0;
            }, Duration.ofSeconds(5));
            Metrics m = Metrics.parseFrom(found.stats().getValue());

            assertEquals(1, m.getPids().getCurrent());
            assertEquals(50, m.getPids().getLimit());

            var usage = m.getCpu().getUsage();
            assertTrue(usage.getTotal() > 100_000_000L, "a 0.25 s busy loop: " + usage);
            assertTrue(usage.getUser() + usage.getKernel() > 0, usage.toString());
            assertEquals(Runtime.getRuntime().availableProcessors(), usage.getPerCpuCount(), usage.toString());
            assertEquals(usage.getTotal(), usage.getPerCpuList().stream().mapToLong(Long::longValue).sum(),
                    usage.getTotal() / 100.0 + 1e6, "per-CPU sums to the total (read a moment apart)");
            var throttling = m.getCpu().getThrottling();
            assertTrue(throttling.getPeriods() > 0, throttling.toString());
            assertTrue(throttling.getThrottledPeriods() > 0, throttling.toString());
            assertTrue(throttling.getThrottledTime() > 0, throttling.toString());

            var mem = m.getMemory();
            assertTrue(mem.getUsage().getUsage() > 0, mem.getUsage().toString());
            assertEquals(64 * MIB, mem.getUsage().getLimit());
            assertTrue(mem.getUsage().getMax() >= mem.getUsage().getUsage());
            assertEquals(64 * MIB, mem.getHierarchicalMemoryLimit());
            assertTrue(mem.getRss() + mem.getCache() > 0, mem.toString());
            assertTrue(mem.getPgFault() > 0 && mem.getTotalPgFault() >= mem.getPgFault(), mem.toString());
            assertTrue(mem.getTotalRss() + mem.getTotalCache() > 0, mem.toString());
            // (active/inactive LRU counters are not asserted: fresh pages can sit in per-CPU LRU batches)
            if (Files.exists(cg.dir("memory").resolve("memory.kmem.usage_in_bytes"))) {
                assertTrue(mem.getKernel().getUsage() > 0, "kmem: " + mem.getKernel());
            }
            assertTrue(m.hasMemoryOomControl());
            assertEquals(0, m.getMemoryOomControl().getOomKill());
            assertTrue(m.hasBlkio());

            Posix.kill(child.pid(), Posix.SIGKILL);
            child.onExit().get(10, TimeUnit.SECONDS);
            ScratchCgroups.removeDir(cg.dir("memory"));
            assertFalse(found.exists());
            assertThrows(CgroupGoneException.class, found::stats);
        }
    }

    /**
     * blk-throttle is what counts I/O per cgroup on kernels without CFQ, and only for a cgroup
     * that has a throttle rule on the device: give ours a rule no write can reach.
     */
    @Test
    void blkioCountsWhatTheCgroupWroteToDisk(@TempDir Path tmp) throws Exception {
        long[] disk = wholeDiskOf(tmp);
        try (ScratchCgroups cg = new ScratchCgroups("blkio")) {
            cg.write("blkio", "blkio.throttle.write_bps_device", disk[0] + ":" + disk[1] + " 1099511627776");
            Path out = tmp.resolve("written");
            Child dd = cg.spawnShell(cg.enterAll() + "exec dd if=/dev/zero of=" + out + " bs=1M count=4 conv=fsync");
            assertEquals(0, dd.onExit().get(30, TimeUnit.SECONDS).status());

            CgroupV1 cgroup = new CgroupV1(cg.dirs);
            var blkio = cgroup.metrics().getBlkio();
            BlkIOEntry write = blkio.getIoServiceBytesRecursiveList().stream()
                    .filter(e -> e.getOp().equals("Write") && e.getMajor() == disk[0] && e.getMinor() == disk[1])
                    .findFirst().orElseThrow(() -> new AssertionError("no Write entry: " + blkio));
            assertTrue(write.getValue() >= 4 * MIB, write.toString());
            assertTrue(write.getDevice().startsWith("/dev/"), write.toString());
            assertTrue(blkio.getIoServicedRecursiveList().stream()
                    .anyMatch(e -> e.getOp().equals("Write") && e.getValue() > 0), blkio.toString());
        }
    }

    @Test
    void statsLeakNoFileDescriptors() throws Exception {
        try (ScratchCgroups cg = new ScratchCgroups("memory", "cpu", "cpuacct", "pids", "blkio")) {
            Child child = cg.spawnShell(cg.enterAll() + "exec sleep 60");
            Cgroup cgroup = waitForCgroup(child, cg.dir("memory"));
            // the shell joins the memory hierarchy first and the pids one last: wait until it is in all of them
            waitFor(() -> Metrics.parseFrom(cgroup.stats().getValue()).getPids().getCurrent() == 1,
                    Duration.ofSeconds(30)); // also the warm-up: classes, caches
            long cgroupFds = Fds.cgroupFiles();
            long total = Fds.total();
            int calls = Scale.of(100, 1000);
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                Metrics m = Metrics.parseFrom(cgroup.stats().getValue());
                assertEquals(1, m.getPids().getCurrent());
            }
            System.out.printf("stats(): %d calls, %.3f ms each%n", calls, (System.nanoTime() - start) / 1e6 / calls);
            assertEquals(cgroupFds, Fds.cgroupFiles(), "fds open on /sys/fs/cgroup");
            waitFor(() -> total >= Fds.total(), Duration.ofSeconds(5));
        }
    }

    @Test
    void forPidOfThisJvmIsV1OnAHybridHost() throws Exception {
        CgroupV1 self = assertInstanceOf(CgroupV1.class, Cgroup.forPid(Math.toIntExact(ProcessHandle.current().pid())));
        assertTrue(self.dir("memory").orElseThrow().startsWith("/sys/fs/cgroup/memory"));
        assertTrue(self.exists());
        Metrics m = self.metrics();
        assertTrue(m.getMemory().getUsage().getUsage() > 0);
    }

    static Cgroup waitForCgroup(Child child, Path memoryDir) throws Exception {
        waitFor(() -> {
            CgroupV1 c = (CgroupV1) Cgroup.forPid(child.pid());
            return c.dir("memory").orElseThrow().equals(memoryDir);
        }, Duration.ofSeconds(10));
        return Cgroup.forPid(child.pid());
    }

    /** major, minor of the whole disk holding {@code path} (throttle rules take disks, not partitions). */
    static long[] wholeDiskOf(Path path) throws Exception {
        long dev = (Long) Files.getAttribute(path, "unix:dev");
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        Path sys = Path.of("/sys/dev/block/" + major + ":" + minor);
        assumeTrue(Files.exists(sys), "temp dir is not on a block device: " + path);
        if (Files.exists(sys.resolve("partition"))) {
            String[] mm = Files.readString(sys.toRealPath().getParent().resolve("dev")).trim().split(":");
            return new long[] {Long.parseLong(mm[0]), Long.parseLong(mm[1])};
        }
        return new long[] {major, minor};
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check check, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            Thread.sleep(10);
        }
    }
}
