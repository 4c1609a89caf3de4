package io.jshim.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jshim.proto.cgroups.v1.Metrics;

/**
 * Every v1 file → field mapping, over files laid out as the kernel writes them. Needed beyond
 * the real-kernel test for what this host cannot show: hugetlb (not mounted in v1 here), kmem
 * limits, CFQ blkio files, rdma.
 */
class V1LayoutTest {

    @Test
    void everyMemoryStatKeyLandsInItsField(@TempDir Path tmp) throws Exception {
        Path mem = Files.createDirectory(tmp.resolve("memory"));
        // values 1..32 in MemoryStat field-number order
        String[] keys = {"cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout",
            "pgfault", "pgmajfault", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
            "hierarchical_memory_limit", "hierarchical_memsw_limit", "total_cache", "total_rss", "total_rss_huge",
            "total_mapped_file", "total_dirty", "total_writeback", "total_pgpgin", "total_pgpgout", "total_pgfault",
            "total_pgmajfault", "total_inactive_anon", "total_active_anon", "total_inactive_file",
            "total_active_file", "total_unevictable"};
        StringBuilder stat = new StringBuilder("shmem 999\nswap 0\n");
        for (int i = 0; i < keys.length; i++) {
            stat.append(keys[i]).append(' ').append(i + 1).append('\n');
        }
        write(mem, "memory.stat", stat.toString());
        String[][] entries = {{"memory.", "100"}, {"memory.memsw.", "200"}, {"memory.kmem.", "300"},
            {"memory.kmem.tcp.", "400"}};
        for (String[] e : entries) {
            long base = Long.parseLong(e[1]);
            write(mem, e[0] + "usage_in_bytes", Long.toString(base + 1));
            write(mem, e[0] + "max_usage_in_bytes", Long.toString(base + 2));
            write(mem, e[0] + "failcnt", Long.toString(base + 3));
            write(mem, e[0] + "limit_in_bytes", Long.toString(base + 4));
        }
        write(mem, "memory.oom_control", "oom_kill_disable 1\nunder_oom 1\noom_kill 4\n");

        Metrics m = new CgroupV1(Map.of("memory", mem)).metrics();
        var ms = m.getMemory();
        int n = 1;
        // every set field in field-number order: fields 1..32 come first, none of them left at 0
        var values = new java.util.ArrayList<Object>();
        var names = new java.util.ArrayList<String>();
        ms.visitFields((name, value, unsigned) -> { names.add(name); values.add(value); });
        for (int i = 0; i < 32; i++) {
            assertEquals(n++, (long) (Long) values.get(i), names.get(i));
        }
        assertEquals(entry(101, 102, 103, 104), ms.getUsage());
        assertEquals(entry(201, 202, 203, 204), ms.getSwap());
        assertEquals(entry(301, 302, 303, 304), ms.getKernel());
        assertEquals(entry(401, 402, 403, 404), ms.getKernelTcp());
        assertEquals(1, m.getMemoryOomControl().getOomKillDisable());
        assertEquals(1, m.getMemoryOomControl().getUnderOom());
        assertEquals(4, m.getMemoryOomControl().getOomKill());
    }

    @Test
    void missingMemoryFilesLeaveOnlyTheirFieldsZero(@TempDir Path tmp) throws Exception {
        Path mem = Files.createDirectory(tmp.resolve("memory"));
        write(mem, "memory.stat", "rss 5\n");
        write(mem, "memory.usage_in_bytes", "77");
        Metrics m = new CgroupV1(Map.of("memory", mem)).metrics();
        assertEquals(5, m.getMemory().getRss());
        assertEquals(77, m.getMemory().getUsage().getUsage());
        assertEquals(0, m.getMemory().getKernel().getUsage());
        assertFalse(m.hasMemoryOomControl());
        assertFalse(m.hasPids());
        assertTrue(m.hasCpu(), "containerd always sends the cpu section");
    }

    @Test
    void cpuPidsHugetlbBlkioAndRdma(@TempDir Path tmp) throws Exception {
        Path cpuacct = Files.createDirectory(tmp.resolve("cpuacct"));
        write(cpuacct, "cpuacct.usage", "5000000000");
        write(cpuacct, "cpuacct.usage_percpu", "3000000000 2000000000 \n");
        write(cpuacct, "cpuacct.stat", "user 300\nsystem 150\n");
        Path cpu = Files.createDirectory(tmp.resolve("cpu"));
        write(cpu, "cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 123456\nnr_bursts 0\nburst_time 0\n");
        Path pids = Files.createDirectory(tmp.resolve("pids"));
        write(pids, "pids.current", "7");
        write(pids, "pids.max", "max");
        Path hugetlb = Files.createDirectory(tmp.resolve("hugetlb"));
        for (String size : HugePageSizes.all()) {
            write(hugetlb, "hugetlb." + size + ".usage_in_bytes", "2097152");
            write(hugetlb, "hugetlb." + size + ".max_usage_in_bytes", "4194304");
            write(hugetlb, "hugetlb." + size + ".failcnt", "3");
        }
        Path blkio = Files.createDirectory(tmp.resolve("blkio"));
        write(blkio, "blkio.io_serviced_recursive", "8:0 Read 10\n8:0 Write 20\nTotal 30\n");
        write(blkio, "blkio.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n");
        write(blkio, "blkio.sectors_recursive", "8:0 24\n");
        write(blkio, "blkio.time_recursive", "8:0 1234\n");
        write(blkio, "blkio.throttle.io_serviced", "8:0 Read 999\n"); // not read: CFQ files have entries
        Path rdma = Files.createDirectory(tmp.resolve("rdma"));
        write(rdma, "rdma.current", "mlx4_0 hca_handle=2 hca_object=2000\n");
        write(rdma, "rdma.max", "mlx4_0 hca_handle=max hca_object=max\n");

        Metrics m = new CgroupV1(Map.of("cpuacct", cpuacct, "cpu", cpu, "pids", pids, "hugetlb", hugetlb,
                "blkio", blkio, "rdma", rdma)).metrics();
        var usage = m.getCpu().getUsage();
        assertEquals(5000000000L, usage.getTotal());
        assertEquals(java.util.List.of(3000000000L, 2000000000L), usage.getPerCpuList());
        assertEquals(3_000_000_000L, usage.getUser(), "USER_HZ ticks to ns");
        assertEquals(1_500_000_000L, usage.getKernel());
        assertEquals(10, m.getCpu().getThrottling().getPeriods());
        assertEquals(4, m.getCpu().getThrottling().getThrottledPeriods());
        assertEquals(123456, m.getCpu().getThrottling().getThrottledTime());
        assertEquals(7, m.getPids().getCurrent());
        assertEquals(0, m.getPids().getLimit(), "\"max\" reads 0 on v1, as containerd reports it");
        assertEquals(HugePageSizes.all().size(), m.getHugetlbCount());
        for (var h : m.getHugetlbList()) {
            assertEquals(2097152, h.getUsage());
            assertEquals(4194304, h.getMax());
            assertEquals(3, h.getFailcnt());
        }
        var b = m.getBlkio();
        assertEquals(2, b.getIoServicedRecursiveCount());
        assertEquals(20, b.getIoServicedRecursive(1).getValue());
        assertEquals(2, b.getIoServiceBytesRecursiveCount());
        assertEquals(24, b.getSectorsRecursive(0).getValue());
        assertEquals(1234, b.getIoTimeRecursive(0).getValue());
        assertEquals("mlx4_0", m.getRdma().getCurrent(0).getDevice());
        assertEquals(2000, m.getRdma().getCurrent(0).getHcaObjects());
        assertEquals(-1, m.getRdma().getLimit(0).getHcaHandles());
    }

    @Test
    void blkioFallsBackToThrottleCounters(@TempDir Path tmp) throws Exception {
        Path blkio = Files.createDirectory(tmp.resolve("blkio"));
        write(blkio, "blkio.throttle.io_serviced_recursive", "254:0 Read 1\n254:0 Write 5\n254:0 Total 6\nTotal 6\n");
        write(blkio, "blkio.throttle.io_service_bytes_recursive", "254:0 Read 0\n254:0 Write 4202496\nTotal 4202496\n");
        write(blkio, "blkio.throttle.io_serviced", "254:0 Read 999\n");
        var b = V1Metrics.blkio(blkio);
        assertEquals(3, b.getIoServicedRecursiveCount());
        assertEquals(5, b.getIoServicedRecursive(1).getValue());
        assertEquals(4202496, b.getIoServiceBytesRecursive(1).getValue());
    }

    private static io.jshim.proto.cgroups.v1.MemoryEntry entry(long usage, long max, long failcnt, long limit) {
        return io.jshim.proto.cgroups.v1.MemoryEntry.newBuilder()
                .setUsage(usage).setMax(max).setFailcnt(failcnt).setLimit(limit).build();
    }

    private static void write(Path dir, String file, String content) throws IOException {
        Files.writeString(dir.resolve(file), content);
    }
}
