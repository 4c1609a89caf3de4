package io.jshim.cgroups;

import static io.jshim.cgroups.CgroupFiles.Max.ZERO;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BiConsumer;
import java.util.function.ObjLongConsumer;

import io.jshim.proto.cgroups.v1.BlkIOEntry;
import io.jshim.proto.cgroups.v1.BlkIOStat;
import io.jshim.proto.cgroups.v1.CPUStat;
import io.jshim.proto.cgroups.v1.CPUUsage;
import io.jshim.proto.cgroups.v1.HugetlbStat;
import io.jshim.proto.cgroups.v1.MemoryEntry;
import io.jshim.proto.cgroups.v1.MemoryOomControl;
import io.jshim.proto.cgroups.v1.MemoryStat;
import io.jshim.proto.cgroups.v1.Metrics;
import io.jshim.proto.cgroups.v1.PidsStat;
import io.jshim.proto.cgroups.v1.RdmaEntry;
import io.jshim.proto.cgroups.v1.RdmaStat;
import io.jshim.proto.cgroups.v1.Throttle;

/**
 * Builds io.containerd.cgroups.v1.Metrics from the files containerd's cgroup1 controllers read.
 * Unlike containerd, one missing file leaves only its own fields zero instead of dropping the
 * whole controller (kmem files, for one, are gone from recent kernels).
 */
final class V1Metrics {

    /** USER_HZ: cpuacct.stat counts in clock ticks, 100 a second on Linux (containerd's value). */
    private static final long USER_HZ = 100;
    private static final long NANOS_PER_TICK = 1_000_000_000L / USER_HZ;

    private static final Map<String, ObjLongConsumer<MemoryStat.Builder>> MEMORY_STAT = Map.ofEntries(
            Map.entry("cache", MemoryStat.Builder::setCache),
            Map.entry("rss", MemoryStat.Builder::setRss),
            Map.entry("rss_huge", MemoryStat.Builder::setRssHuge),
            Map.entry("mapped_file", MemoryStat.Builder::setMappedFile),
            Map.entry("dirty", MemoryStat.Builder::setDirty),
            Map.entry("writeback", MemoryStat.Builder::setWriteback),
            Map.entry("pgpgin", MemoryStat.Builder::setPgPgIn),
            Map.entry("pgpgout", MemoryStat.Builder::setPgPgOut),
            Map.entry("pgfault", MemoryStat.Builder::setPgFault),
            Map.entry("pgmajfault", MemoryStat.Builder::setPgMajFault),
            Map.entry("inactive_anon", MemoryStat.Builder::setInactiveAnon),
            Map.entry("active_anon", MemoryStat.Builder::setActiveAnon),
            Map.entry("inactive_file", MemoryStat.Builder::setInactiveFile),
            Map.entry("active_file", MemoryStat.Builder::setActiveFile),
            Map.entry("unevictable", MemoryStat.Builder::setUnevictable),
            Map.entry("hierarchical_memory_limit", MemoryStat.Builder::setHierarchicalMemoryLimit),
            Map.entry("hierarchical_memsw_limit", MemoryStat.Builder::setHierarchicalSwapLimit),
            Map.entry("total_cache", MemoryStat.Builder::setTotalCache),
            Map.entry("total_rss", MemoryStat.Builder::setTotalRss),
            Map.entry("total_rss_huge", MemoryStat.Builder::setTotalRssHuge),
            Map.entry("total_mapped_file", MemoryStat.Builder::setTotalMappedFile),
            Map.entry("total_dirty", MemoryStat.Builder::setTotalDirty),
            Map.entry("total_writeback", MemoryStat.Builder::setTotalWriteback),
            Map.entry("total_pgpgin", MemoryStat.Builder::setTotalPgPgIn),
            Map.entry("total_pgpgout", MemoryStat.Builder::setTotalPgPgOut),
            Map.entry("total_pgfault", MemoryStat.Builder::setTotalPgFault),
            Map.entry("total_pgmajfault", MemoryStat.Builder::setTotalPgMajFault),
            Map.entry("total_inactive_anon", MemoryStat.Builder::setTotalInactiveAnon),
            Map.entry("total_active_anon", MemoryStat.Builder::setTotalActiveAnon),
            Map.entry("total_inactive_file", MemoryStat.Builder::setTotalInactiveFile),
            Map.entry("total_active_file", MemoryStat.Builder::setTotalActiveFile),
            Map.entry("total_unevictable", MemoryStat.Builder::setTotalUnevictable));

    /** The CFQ-era per-cgroup files, in containerd's order, with the field each fills. */
    private record BlkioFile(String name, BiConsumer<BlkIOStat.Builder, BlkIOEntry> add) {}

    private static final List<BlkioFile> CFQ_FILES = List.of(
            new BlkioFile("sectors_recursive", BlkIOStat.Builder::addSectorsRecursive),
            new BlkioFile("io_service_bytes_recursive", BlkIOStat.Builder::addIoServiceBytesRecursive),
            new BlkioFile("io_serviced_recursive", BlkIOStat.Builder::addIoServicedRecursive),
            new BlkioFile("io_queued_recursive", BlkIOStat.Builder::addIoQueuedRecursive),
            new BlkioFile("io_service_time_recursive", BlkIOStat.Builder::addIoServiceTimeRecursive),
            new BlkioFile("io_wait_time_recursive", BlkIOStat.Builder::addIoWaitTimeRecursive),
            new BlkioFile("io_merged_recursive", BlkIOStat.Builder::addIoMergedRecursive),
            new BlkioFile("time_recursive", BlkIOStat.Builder::addIoTimeRecursive));

    private V1Metrics() {}

    static Metrics read(CgroupV1 cgroup) throws IOException {
        Metrics.Builder m = Metrics.newBuilder();
        // containerd always sends the cpu section, zero when neither cpu controller is mounted
        CPUUsage.Builder usage = CPUUsage.newBuilder();
        Throttle.Builder throttle = Throttle.newBuilder();
        Optional<Path> dir;
        if ((dir = cgroup.dir("hugetlb")).isPresent()) {
            hugetlb(dir.get(), m);
        }
        if ((dir = cgroup.dir("pids")).isPresent()) {
            pids(dir.get(), m);
        }
        if ((dir = cgroup.dir("cpuacct")).isPresent()) {
            cpuacct(dir.get(), usage);
        }
        if ((dir = cgroup.dir("cpu")).isPresent()) {
            cpu(dir.get(), throttle);
        }
        m.setCpu(CPUStat.newBuilder().setUsage(usage).setThrottling(throttle));
        if ((dir = cgroup.dir("memory")).isPresent()) {
            memory(dir.get(), m);
        }
        if ((dir = cgroup.dir("blkio")).isPresent()) {
            m.setBlkio(blkio(dir.get()));
        }
        if ((dir = cgroup.dir("rdma")).isPresent()) {
            rdma(dir.get(), m);
        }
        return m.build();
    }

    private static void hugetlb(Path dir, Metrics.Builder m) throws IOException {
        for (String size : HugePageSizes.all()) {
            String prefix = "hugetlb." + size + ".";
            OptionalLong usage = CgroupFiles.readUint(dir.resolve(prefix + "usage_in_bytes"), ZERO);
            if (usage.isEmpty()) {
                continue;
            }
            m.addHugetlb(HugetlbStat.newBuilder()
                    .setPagesize(size)
                    .setUsage(usage.getAsLong())
                    .setMax(uint(dir.resolve(prefix + "max_usage_in_bytes")))
                    .setFailcnt(uint(dir.resolve(prefix + "failcnt"))));
        }
    }

    private static void pids(Path dir, Metrics.Builder m) throws IOException {
        OptionalLong current = CgroupFiles.readUint(dir.resolve("pids.current"), ZERO);
        if (current.isPresent()) {
            // "max" (no limit) reads as 0, as containerd reports it
            m.setPids(PidsStat.newBuilder().setCurrent(current.getAsLong()).setLimit(uint(dir.resolve("pids.max"))));
        }
    }

    private static void cpuacct(Path dir, CPUUsage.Builder usage) throws IOException {
        usage.setTotal(uint(dir.resolve("cpuacct.usage")));
        Optional<String> perCpu = CgroupFiles.read(dir.resolve("cpuacct.usage_percpu"));
        if (perCpu.isPresent()) {
            for (String v : perCpu.get().trim().split("\\s+")) {
                if (!v.isEmpty()) {
                    usage.addPerCpu(CgroupFiles.parseUint(v, ZERO));
                }
            }
        }
        Optional<Map<String, Long>> stat = CgroupFiles.readKeyValues(dir.resolve("cpuacct.stat"), ZERO);
        if (stat.isPresent()) {
            usage.setUser(stat.get().getOrDefault("user", 0L) * NANOS_PER_TICK);
            usage.setKernel(stat.get().getOrDefault("system", 0L) * NANOS_PER_TICK);
        }
    }

    private static void cpu(Path dir, Throttle.Builder throttle) throws IOException {
        Optional<Map<String, Long>> stat = CgroupFiles.readKeyValues(dir.resolve("cpu.stat"), ZERO);
        if (stat.isPresent()) {
            throttle.setPeriods(stat.get().getOrDefault("nr_periods", 0L));
            throttle.setThrottledPeriods(stat.get().getOrDefault("nr_throttled", 0L));
            throttle.setThrottledTime(stat.get().getOrDefault("throttled_time", 0L));
        }
    }

    private static void memory(Path dir, Metrics.Builder m) throws IOException {
        Optional<Map<String, Long>> stat = CgroupFiles.readKeyValues(dir.resolve("memory.stat"), ZERO);
        if (stat.isEmpty()) {
            return;
        }
        MemoryStat.Builder mem = MemoryStat.newBuilder();
        stat.get().forEach((key, value) -> {
            ObjLongConsumer<MemoryStat.Builder> setter = MEMORY_STAT.get(key);
            if (setter != null) {
                setter.accept(mem, value);
            }
        });
        mem.setUsage(memoryEntry(dir, "memory."));
        mem.setSwap(memoryEntry(dir, "memory.memsw."));
        mem.setKernel(memoryEntry(dir, "memory.kmem."));
        mem.setKernelTcp(memoryEntry(dir, "memory.kmem.tcp."));
        m.setMemory(mem);

        Optional<Map<String, Long>> oom = CgroupFiles.readKeyValues(dir.resolve("memory.oom_control"), ZERO);
        oom.ifPresent(o -> m.setMemoryOomControl(MemoryOomControl.newBuilder()
                .setOomKillDisable(o.getOrDefault("oom_kill_disable", 0L))
                .setUnderOom(o.getOrDefault("under_oom", 0L))
                .setOomKill(o.getOrDefault("oom_kill", 0L))));
    }

    private static MemoryEntry memoryEntry(Path dir, String prefix) throws IOException {
        return MemoryEntry.newBuilder()
                .setUsage(uint(dir.resolve(prefix + "usage_in_bytes")))
                .setMax(uint(dir.resolve(prefix + "max_usage_in_bytes")))
                .setFailcnt(uint(dir.resolve(prefix + "failcnt")))
                .setLimit(uint(dir.resolve(prefix + "limit_in_bytes")))
                .build();
    }

    /**
     * CFQ's per-cgroup files when the kernel has them; else (no CFQ since 5.0, or no device under
     * CFQ) the blk-throttle counters, as containerd falls back. Note blk-throttle only counts the
     * I/O of a cgroup that has a throttle rule on the device.
     */
    static BlkIOStat blkio(Path dir) throws IOException {
        BlkIOStat.Builder b = BlkIOStat.newBuilder();
        int entries = 0;
        if (Files.exists(dir.resolve("blkio.io_serviced_recursive"))) {
            for (BlkioFile f : CFQ_FILES) {
                entries += addEntries(dir.resolve("blkio." + f.name()), b, f.add());
            }
        }
        if (entries > 0) {
            return b.build();
        }
        addEntries(preferRecursive(dir, "blkio.throttle.io_serviced"), b, BlkIOStat.Builder::addIoServicedRecursive);
        addEntries(preferRecursive(dir, "blkio.throttle.io_service_bytes"), b, BlkIOStat.Builder::addIoServiceBytesRecursive);
        return b.build();
    }

    /** The _recursive variant (children included, matching the field's name) when it exists. */
    private static Path preferRecursive(Path dir, String name) {
        Path recursive = dir.resolve(name + "_recursive");
        return Files.exists(recursive) ? recursive : dir.resolve(name);
    }

    private static int addEntries(Path file, BlkIOStat.Builder b,
                                  BiConsumer<BlkIOStat.Builder, BlkIOEntry> add) throws IOException {
        Optional<List<String>> lines = CgroupFiles.lines(file);
        if (lines.isEmpty()) {
            return 0;
        }
        List<BlkIOEntry> parsed = parseBlkio(lines.get());
        parsed.forEach(e -> add.accept(b, e));
        return parsed.size();
    }

    /** Lines "major:minor Op value" or "major:minor value"; the closing "Total value" is skipped. */
    static List<BlkIOEntry> parseBlkio(List<String> lines) {
        List<BlkIOEntry> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("[ :]+");
            if (f.length < 3) {
                continue;
            }
            try {
                long major = Long.parseUnsignedLong(f[0]);
                long minor = Long.parseUnsignedLong(f[1]);
                String op = f.length >= 4 ? f[2] : "";
                long value = CgroupFiles.parseUint(f[f.length >= 4 ? 3 : 2], ZERO);
                out.add(BlkIOEntry.newBuilder()
                        .setMajor(major).setMinor(minor).setOp(op).setValue(value)
                        .setDevice(BlockDevices.name(major, minor))
                        .build());
            } catch (NumberFormatException e) {
                // not a device line
            }
        }
        return out;
    }

    private static void rdma(Path dir, Metrics.Builder m) throws IOException {
        Optional<List<String>> current = CgroupFiles.lines(dir.resolve("rdma.current"));
        Optional<List<String>> limit = CgroupFiles.lines(dir.resolve("rdma.max"));
        if (current.isEmpty() && limit.isEmpty()) {
            return;
        }
        RdmaStat.Builder r = RdmaStat.newBuilder();
        current.ifPresent(l -> RdmaLine.parse(l).forEach(e -> r.addCurrent(rdmaEntry(e))));
        limit.ifPresent(l -> RdmaLine.parse(l).forEach(e -> r.addLimit(rdmaEntry(e))));
        m.setRdma(r);
    }

    private static RdmaEntry rdmaEntry(RdmaLine line) {
        return RdmaEntry.newBuilder().setDevice(line.device())
                .setHcaHandles(line.hcaHandles()).setHcaObjects(line.hcaObjects()).build();
    }

    private static long uint(Path file) throws IOException {
        return CgroupFiles.readUint(file, ZERO).orElse(0);
    }
}
