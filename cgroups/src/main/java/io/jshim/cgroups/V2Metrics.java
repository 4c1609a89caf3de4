package io.jshim.cgroups;

import static io.jshim.cgroups.CgroupFiles.Max.ALL_ONES;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.ObjLongConsumer;

import io.jshim.proto.cgroups.v2.CPUStat;
import io.jshim.proto.cgroups.v2.HugeTlbStat;
import io.jshim.proto.cgroups.v2.IOEntry;
import io.jshim.proto.cgroups.v2.IOStat;
import io.jshim.proto.cgroups.v2.MemoryEvents;
import io.jshim.proto.cgroups.v2.MemoryStat;
import io.jshim.proto.cgroups.v2.Metrics;
import io.jshim.proto.cgroups.v2.PidsStat;
import io.jshim.proto.cgroups.v2.RdmaEntry;
import io.jshim.proto.cgroups.v2.RdmaStat;

/**
 * Builds io.containerd.cgroups.v2.Metrics from a cgroup2 directory, as containerd's
 * cgroup2.Manager.Stat does: "max" limits read as the u64 maximum; pids, cpu, memory, io and
 * rdma sections are always present (zero when their files are missing).
 */
final class V2Metrics {

    private static final Map<String, ObjLongConsumer<MemoryStat.Builder>> MEMORY_STAT = Map.ofEntries(
            Map.entry("anon", MemoryStat.Builder::setAnon),
            Map.entry("file", MemoryStat.Builder::setFile),
            Map.entry("kernel_stack", MemoryStat.Builder::setKernelStack),
            Map.entry("slab", MemoryStat.Builder::setSlab),
            Map.entry("sock", MemoryStat.Builder::setSock),
            Map.entry("shmem", MemoryStat.Builder::setShmem),
            Map.entry("file_mapped", MemoryStat.Builder::setFileMapped),
            Map.entry("file_dirty", MemoryStat.Builder::setFileDirty),
            Map.entry("file_writeback", MemoryStat.Builder::setFileWriteback),
            Map.entry("anon_thp", MemoryStat.Builder::setAnonThp),
            Map.entry("inactive_anon", MemoryStat.Builder::setInactiveAnon),
            Map.entry("active_anon", MemoryStat.Builder::setActiveAnon),
            Map.entry("inactive_file", MemoryStat.Builder::setInactiveFile),
            Map.entry("active_file", MemoryStat.Builder::setActiveFile),
            Map.entry("unevictable", MemoryStat.Builder::setUnevictable),
            Map.entry("slab_reclaimable", MemoryStat.Builder::setSlabReclaimable),
            Map.entry("slab_unreclaimable", MemoryStat.Builder::setSlabUnreclaimable),
            Map.entry("pgfault", MemoryStat.Builder::setPgfault),
            Map.entry("pgmajfault", MemoryStat.Builder::setPgmajfault),
            Map.entry("workingset_refault", MemoryStat.Builder::setWorkingsetRefault),
            Map.entry("workingset_activate", MemoryStat.Builder::setWorkingsetActivate),
            Map.entry("workingset_nodereclaim", MemoryStat.Builder::setWorkingsetNodereclaim),
            Map.entry("pgrefill", MemoryStat.Builder::setPgrefill),
            Map.entry("pgscan", MemoryStat.Builder::setPgscan),
            Map.entry("pgsteal", MemoryStat.Builder::setPgsteal),
            Map.entry("pgactivate", MemoryStat.Builder::setPgactivate),
            Map.entry("pgdeactivate", MemoryStat.Builder::setPgdeactivate),
            Map.entry("pglazyfree", MemoryStat.Builder::setPglazyfree),
            Map.entry("pglazyfreed", MemoryStat.Builder::setPglazyfreed),
            Map.entry("thp_fault_alloc", MemoryStat.Builder::setThpFaultAlloc),
            Map.entry("thp_collapse_alloc", MemoryStat.Builder::setThpCollapseAlloc));

    private V2Metrics() {}

    static Metrics read(Path dir) throws IOException {
        Metrics.Builder m = Metrics.newBuilder();
        m.setPids(PidsStat.newBuilder()
                .setCurrent(uint(dir.resolve("pids.current")))
                .setLimit(uint(dir.resolve("pids.max"))));
        m.setCpu(cpu(dir));
        m.setMemory(memory(dir));
        CgroupFiles.readKeyValues(dir.resolve("memory.events"), ALL_ONES)
                .filter(events -> !events.isEmpty())
                .ifPresent(events -> m.setMemoryEvents(memoryEvents(events)));
        m.setIo(IOStat.newBuilder().addAllUsage(
                parseIoStat(CgroupFiles.lines(dir.resolve("io.stat")).orElse(List.of()))));
        RdmaStat.Builder rdma = RdmaStat.newBuilder();
        CgroupFiles.lines(dir.resolve("rdma.current"))
                .ifPresent(l -> RdmaLine.parse(l).forEach(e -> rdma.addCurrent(rdmaEntry(e))));
        CgroupFiles.lines(dir.resolve("rdma.max"))
                .ifPresent(l -> RdmaLine.parse(l).forEach(e -> rdma.addLimit(rdmaEntry(e))));
        m.setRdma(rdma);
        for (String size : HugePageSizes.all()) {
            OptionalLong current = CgroupFiles.readUint(dir.resolve("hugetlb." + size + ".current"), ALL_ONES);
            if (current.isPresent()) {
                m.addHugetlb(HugeTlbStat.newBuilder()
                        .setPagesize(size)
                        .setCurrent(current.getAsLong())
                        .setMax(uint(dir.resolve("hugetlb." + size + ".max"))));
            }
        }
        return m.build();
    }

    private static CPUStat cpu(Path dir) throws IOException {
        Map<String, Long> s = CgroupFiles.readKeyValues(dir.resolve("cpu.stat"), ALL_ONES).orElse(Map.of());
        return CPUStat.newBuilder()
                .setUsageUsec(s.getOrDefault("usage_usec", 0L))
                .setUserUsec(s.getOrDefault("user_usec", 0L))
                .setSystemUsec(s.getOrDefault("system_usec", 0L))
                .setNrPeriods(s.getOrDefault("nr_periods", 0L))
                .setNrThrottled(s.getOrDefault("nr_throttled", 0L))
                .setThrottledUsec(s.getOrDefault("throttled_usec", 0L))
                .build();
    }

    private static MemoryStat memory(Path dir) throws IOException {
        MemoryStat.Builder mem = MemoryStat.newBuilder();
        Map<String, Long> stat = CgroupFiles.readKeyValues(dir.resolve("memory.stat"), ALL_ONES).orElse(Map.of());
        stat.forEach((key, value) -> {
            ObjLongConsumer<MemoryStat.Builder> setter = MEMORY_STAT.get(key);
            if (setter != null) {
                setter.accept(mem, value);
            }
        });
        // Since 5.9 the kernel splits these per LRU type; the sum is the old single counter.
        for (String split : List.of("workingset_refault", "workingset_activate")) {
            if (!stat.containsKey(split) && stat.containsKey(split + "_anon")) {
                MEMORY_STAT.get(split).accept(mem,
                        stat.get(split + "_anon") + stat.getOrDefault(split + "_file", 0L));
            }
        }
        return mem
                .setUsage(uint(dir.resolve("memory.current")))
                .setUsageLimit(uint(dir.resolve("memory.max")))
                .setSwapUsage(uint(dir.resolve("memory.swap.current")))
                .setSwapLimit(uint(dir.resolve("memory.swap.max")))
                .build();
    }

    static MemoryEvents memoryEvents(Map<String, Long> events) {
        return MemoryEvents.newBuilder()
                .setLow(events.getOrDefault("low", 0L))
                .setHigh(events.getOrDefault("high", 0L))
                .setMax(events.getOrDefault("max", 0L))
                .setOom(events.getOrDefault("oom", 0L))
                .setOomKill(events.getOrDefault("oom_kill", 0L))
                .build();
    }

    /** Lines "major:minor rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
    static List<IOEntry> parseIoStat(List<String> lines) {
        List<IOEntry> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            String[] majorMinor = f[0].split(":");
            if (f.length < 2 || majorMinor.length != 2) {
                continue;
            }
            IOEntry.Builder e = IOEntry.newBuilder();
            try {
                e.setMajor(Long.parseUnsignedLong(majorMinor[0])).setMinor(Long.parseUnsignedLong(majorMinor[1]));
            } catch (NumberFormatException ex) {
                continue;
            }
            for (int i = 1; i < f.length; i++) {
                String[] kv = f[i].split("=", 2);
                if (kv.length != 2) {
                    continue;
                }
                long v;
                try {
                    v = Long.parseUnsignedLong(kv[1]);
                } catch (NumberFormatException ex) {
                    continue;
                }
                switch (kv[0]) {
                    case "rbytes" -> e.setRbytes(v);
                    case "wbytes" -> e.setWbytes(v);
                    case "rios" -> e.setRios(v);
                    case "wios" -> e.setWios(v);
                    default -> { }
                }
            }
            out.add(e.build());
        }
        return out;
    }

    private static RdmaEntry rdmaEntry(RdmaLine line) {
        return RdmaEntry.newBuilder().setDevice(line.device())
                .setHcaHandles(line.hcaHandles()).setHcaObjects(line.hcaObjects()).build();
    }

    private static long uint(Path file) throws IOException {
        return CgroupFiles.readUint(file, ALL_ONES).orElse(0);
    }

    static Optional<Long> oomKills(Path dir) throws IOException {
        return CgroupFiles.readKeyValues(dir.resolve("memory.events"), ALL_ONES)
                .map(e -> e.getOrDefault("oom_kill", 0L));
    }
}
