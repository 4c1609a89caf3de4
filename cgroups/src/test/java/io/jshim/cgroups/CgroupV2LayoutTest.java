package io.jshim.cgroups;

import static io.jshim.cgroups.CgroupV1StatsTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jshim.proto.wkt.Any;

import io.jshim.proto.cgroups.v2.IOEntry;
import io.jshim.proto.cgroups.v2.Metrics;
import io.jshim.proto.cgroups.v2.RdmaEntry;

/**
 * cgroup v2 Stats and OOM over a directory laid out as cgroup2 presents a container's cgroup
 * (this host's cgroup2 has no memory controller, so memory.* cannot be read for real here).
 */
class CgroupV2LayoutTest {

    private static OomWatcher watcher;

    @BeforeAll
    static void start() {
        watcher = new OomWatcher();
    }

    @AfterAll
    static void stop() {
        watcher.close();
    }

    static Path layout(Path dir) throws IOException {
        write(dir, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
        write(dir, "cgroup.events", "populated 1\nfrozen 0");
        write(dir, "cgroup.procs", "4242");
        write(dir, "pids.current", "3");
        write(dir, "pids.max", "max");
        write(dir, "cpu.stat", """
                usage_usec 1853000
                user_usec 1200000
                system_usec 653000
                core_sched.force_idle_usec 0
                nr_periods 120
                nr_throttled 17
                throttled_usec 480000
                nr_bursts 0
                burst_usec 0""");
        write(dir, "memory.stat", """
                anon 1001
                file 1002
                kernel 99
                kernel_stack 1003
                pagetables 98
                sec_pagetables 0
                percpu 97
                sock 1005
                vmalloc 0
                shmem 1006
                zswap 0
                zswapped 0
                file_mapped 1007
                file_dirty 1008
                file_writeback 1009
                swapcached 0
                anon_thp 1010
                file_thp 0
                shmem_thp 0
                inactive_anon 1011
                active_anon 1012
                inactive_file 1013
                active_file 1014
                unevictable 1015
                slab_reclaimable 1016
                slab_unreclaimable 1017
                slab 1004
                workingset_refault_anon 20
                workingset_refault_file 1000
                workingset_activate_anon 21
                workingset_activate_file 1000
                workingset_restore_anon 0
                workingset_restore_file 0
                workingset_nodereclaim 1022
                pgscan 1024
                pgsteal 1025
                pgscan_kswapd 0
                pgfault 1018
                pgmajfault 1019
                pgrefill 1023
                pgactivate 1026
                pgdeactivate 1027
                pglazyfree 1028
                pglazyfreed 1029
                thp_fault_alloc 1030
                thp_collapse_alloc 1031""");
        write(dir, "memory.current", "8675309");
        write(dir, "memory.max", "max");
        write(dir, "memory.swap.current", "0");
        write(dir, "memory.swap.max", "33554432");
        write(dir, "memory.events", "low 0\nhigh 2\nmax 5\noom 1\noom_kill 0\noom_group_kill 0");
        write(dir, "io.stat", """
                254:0 rbytes=4096 wbytes=4202496 rios=1 wios=5 dbytes=0 dios=0
                7:0 rbytes=1024 wbytes=0 rios=2 wios=0 dbytes=0 dios=0""");
        write(dir, "rdma.current", "mlx4_0 hca_handle=2 hca_object=2000");
        write(dir, "rdma.max", "mlx4_0 hca_handle=max hca_object=5000");
        for (String size : HugePageSizes.all()) {
            write(dir, "hugetlb." + size + ".current", "0");
            write(dir, "hugetlb." + size + ".max", "max");
        }
        return dir;
    }

    static void write(Path dir, String file, String content) throws IOException {
        Files.writeString(dir.resolve(file), content + "\n");
    }

    @Test
    void statsMapEveryFileToItsField(@TempDir Path tmp) throws Exception {
        CgroupV2 cgroup = new CgroupV2(layout(tmp));
        Any any = cgroup.stats();
        assertEquals("io.containerd.cgroups.v2.Metrics", any.getTypeUrl());
        Metrics m = Metrics.parseFrom(any.getValue());

        assertEquals(3, m.getPids().getCurrent());
        assertEquals(-1L, m.getPids().getLimit(), "\"max\" is the u64 maximum, as containerd reports it");

        var cpu = m.getCpu();
        assertEquals(1853000, cpu.getUsageUsec());
        assertEquals(1200000, cpu.getUserUsec());
        assertEquals(653000, cpu.getSystemUsec());
        assertEquals(120, cpu.getNrPeriods());
        assertEquals(17, cpu.getNrThrottled());
        assertEquals(480000, cpu.getThrottledUsec());

        var mem = m.getMemory();
        // fields 1..31 were given values 1001..1031 in field-number order (workingset_refault and
        // workingset_activate as the sum of the _anon and _file counters of kernels since 5.9)
        long expected = 1001;
        // every set field in field-number order: fields 1..31 come first, none of them left at 0
        var values = new java.util.ArrayList<Object>();
        var names = new java.util.ArrayList<String>();
        mem.visitFields((name, value, unsigned) -> { names.add(name); values.add(value); });
        for (int i = 0; i < 31; i++) {
            assertEquals(expected++, (long) (Long) values.get(i), names.get(i));
        }
        assertEquals(8675309, mem.getUsage());
        assertEquals(-1L, mem.getUsageLimit());
        assertEquals(0, mem.getSwapUsage());
        assertEquals(33554432, mem.getSwapLimit());

        var events = m.getMemoryEvents();
        assertEquals(0, events.getLow());
        assertEquals(2, events.getHigh());
        assertEquals(5, events.getMax());
        assertEquals(1, events.getOom());
        assertEquals(0, events.getOomKill());

        assertEquals(List.of(
                IOEntry.newBuilder().setMajor(254).setMinor(0).setRbytes(4096).setWbytes(4202496).setRios(1).setWios(5).build(),
                IOEntry.newBuilder().setMajor(7).setMinor(0).setRbytes(1024).setRios(2).build()),
                m.getIo().getUsageList());

        assertEquals(List.of(RdmaEntry.newBuilder().setDevice("mlx4_0").setHcaHandles(2).setHcaObjects(2000).build()),
                m.getRdma().getCurrentList());
        assertEquals(List.of(RdmaEntry.newBuilder().setDevice("mlx4_0").setHcaHandles(-1).setHcaObjects(5000).build()),
                m.getRdma().getLimitList());

        assertEquals(HugePageSizes.all().size(), m.getHugetlbCount());
        for (var h : m.getHugetlbList()) {
            assertTrue(HugePageSizes.all().contains(h.getPagesize()));
            assertEquals(-1L, h.getMax());
        }
    }

    @Test
    void missingFilesLeaveZeros(@TempDir Path tmp) throws Exception {
        write(tmp, "cgroup.procs", "");
        Metrics m = new CgroupV2(tmp).metrics();
        assertEquals(0, m.getPids().getCurrent());
        assertEquals(0, m.getCpu().getUsageUsec());
        assertEquals(0, m.getMemory().getUsage());
        assertFalse(m.hasMemoryEvents(), "containerd sends memory_events only when memory.events exists");
        assertEquals(0, m.getIo().getUsageCount());
    }

    @Test
    void aDeletedCgroupIsGone(@TempDir Path tmp) throws Exception {
        CgroupV2 cgroup = new CgroupV2(tmp.resolve("removed"));
        assertFalse(cgroup.exists());
        assertThrows(CgroupGoneException.class, cgroup::stats);
        assertTrue(new CgroupGoneException("x") instanceof NoSuchFileException);
    }

    @Test
    void onOomFollowsIncreasesOfOomKill(@TempDir Path tmp) throws Exception {
        Path dir = layout(tmp);
        long fdsBefore = Fds.watcherKind();
        AtomicInteger ooms = new AtomicInteger();
        try (OomWatcher.Handle handle = watcher.watch(new CgroupV2(dir), ooms::incrementAndGet)) {
            assertEquals(fdsBefore + 1, Fds.watcherKind(), "one inotify fd per v2 watch");

            write(dir, "memory.events", "low 0\nhigh 2\nmax 6\noom 2\noom_kill 1\noom_group_kill 0");
            waitFor(() -> ooms.get() == 1, Duration.ofSeconds(5));

            write(dir, "memory.events", "low 0\nhigh 9\nmax 9\noom 2\noom_kill 1\noom_group_kill 0");
            // two kills between two reads are two calls
            write(dir, "memory.events", "low 0\nhigh 9\nmax 9\noom 4\noom_kill 3\noom_group_kill 0");
            waitFor(() -> ooms.get() == 3, Duration.ofSeconds(5));

            write(dir, "cgroup.events", "populated 1\nfrozen 0"); // no new kill: no call
            Thread.sleep(200);
            assertEquals(3, ooms.get());
        }
        assertEquals(fdsBefore, Fds.watcherKind(), "close() frees the inotify fd");
    }

    @Test
    void onOomMayCloseItsOwnWatch(@TempDir Path tmp) throws Exception {
        Path dir = layout(tmp);
        long fdsBefore = Fds.watcherKind();
        AtomicInteger ooms = new AtomicInteger();
        OomWatcher.Handle[] self = new OomWatcher.Handle[1];
        self[0] = watcher.watch(new CgroupV2(dir), () -> {
            ooms.incrementAndGet();
            self[0].close(); // on the watcher thread: must not wait for itself
        });
        write(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 3\noom_kill 3");
        waitFor(() -> ooms.get() >= 1 && Fds.watcherKind() == fdsBefore, Duration.ofSeconds(5));
        Thread.sleep(100);
        assertEquals(1, ooms.get(), "the watch closed after the first of three calls");
    }

    @Test
    void killsBeforeTheWatchAreNotReported(@TempDir Path tmp) throws Exception {
        Path dir = layout(tmp);
        write(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 7\noom_kill 7");
        AtomicInteger ooms = new AtomicInteger();
        try (OomWatcher.Handle handle = watcher.watch(new CgroupV2(dir), ooms::incrementAndGet)) {
            write(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 8\noom_kill 8");
            waitFor(() -> ooms.get() == 1, Duration.ofSeconds(5));
            Thread.sleep(100);
            assertEquals(1, ooms.get());
        }
    }

    @Test
    void theWatchEndsWhenTheCgroupEmpties(@TempDir Path tmp) throws Exception {
        Path dir = layout(tmp);
        long fdsBefore = Fds.watcherKind();
        int watchesBefore = watcher.size();
        AtomicInteger ooms = new AtomicInteger();
        OomWatcher.Handle handle = watcher.watch(new CgroupV2(dir), ooms::incrementAndGet);
        // the last process was OOM-killed: memory.events, then cgroup.events
        write(dir, "memory.events", "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1");
        write(dir, "cgroup.events", "populated 0\nfrozen 0");
        waitFor(() -> watcher.size() == watchesBefore, Duration.ofSeconds(5));
        assertEquals(1, ooms.get());
        assertEquals(fdsBefore, Fds.watcherKind());
        write(dir, "memory.events", "low 0\nhigh 0\nmax 1\noom 2\noom_kill 2");
        Thread.sleep(100);
        assertEquals(1, ooms.get(), "no longer watched");
        handle.close();
    }

    @Test
    void theWatchEndsWhenTheCgroupIsDeleted(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("cg"));
        layout(dir);
        int watchesBefore = watcher.size();
        AtomicInteger ooms = new AtomicInteger();
        try (OomWatcher.Handle handle = watcher.watch(new CgroupV2(dir), ooms::incrementAndGet)) {
            // as when cgroupfs removes the directory: the files go, an event arrives
            write(dir, "cgroup.events", "populated 1");
            Files.delete(dir.resolve("memory.events"));
            write(dir, "cgroup.events", "populated 1");
            waitFor(() -> watcher.size() == watchesBefore, Duration.ofSeconds(5));
        }
        assertEquals(0, ooms.get());
    }

    @Test
    void watchingWithoutMemoryEventsFails(@TempDir Path tmp) throws Exception {
        write(tmp, "cgroup.events", "populated 1");
        assertThrows(NoSuchFileException.class, () -> watcher.watch(new CgroupV2(tmp), () -> { }));
        assertThrows(CgroupGoneException.class, () -> watcher.watch(new CgroupV2(tmp.resolve("nope")), () -> { }));
    }
}
