package io.jshim.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jshim.proto.cgroups.v1.BlkIOEntry;

/** The text formats: mountinfo, /proc/PID/cgroup, blkio, io.stat, rdma, huge page names. */
class ParsingTest {

    private static final List<String> HYBRID = List.of(
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
            "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:9 - cgroup cgroup rw,xattr,name=systemd",
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");

    @Test
    void hybridIsV1AndUnifiedIsV2() {
        CgroupMounts hybrid = CgroupMounts.parse(HYBRID);
        assertFalse(hybrid.unified());
        assertEquals(Path.of("/sys/fs/cgroup/unified"), hybrid.unifiedMount().orElseThrow().mountPoint());
        assertEquals(3, hybrid.v1Hierarchies().size());

        CgroupMounts unified = CgroupMounts.parse(List.of(
                "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
                "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate"));
        assertTrue(unified.unified());
        assertEquals(Path.of("/sys/fs/cgroup"), unified.unifiedMount().orElseThrow().mountPoint());
        assertTrue(unified.v1Hierarchies().isEmpty());
    }

    @Test
    void v1ControllersResolveThroughTheirMounts() throws Exception {
        CgroupMounts mounts = CgroupMounts.parse(HYBRID);
        ProcCgroup proc = ProcCgroup.parse(List.of(
                "4:memory:/default/ctr1",
                "2:cpu,cpuacct:/default/ctr1",
                "1:name=systemd:/default/ctr1",
                "0::/default/ctr1"));
        CgroupV1 cg = CgroupV1.locate(mounts, proc, 1);
        assertEquals(Path.of("/sys/fs/cgroup/memory/default/ctr1"), cg.dir("memory").orElseThrow());
        assertEquals(Path.of("/sys/fs/cgroup/cpu,cpuacct/default/ctr1"), cg.dir("cpu").orElseThrow());
        assertEquals(Path.of("/sys/fs/cgroup/cpu,cpuacct/default/ctr1"), cg.dir("cpuacct").orElseThrow());
        assertEquals(Path.of("/sys/fs/cgroup/systemd/default/ctr1"), cg.dir("name=systemd").orElseThrow());
        assertEquals(Optional.empty(), cg.dir("pids"), "not mounted");
        assertEquals(Optional.of("/default/ctr1"), proc.unifiedPath());
    }

    @Test
    void aMountOfASubtreeStripsItsRoot() {
        // inside a container: the hierarchy's /kubepods/pod1 is mounted at /sys/fs/cgroup/memory
        CgroupMounts mounts = CgroupMounts.parse(List.of(
                "35 31 0:32 /kubepods/pod1 /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory"));
        CgroupMounts.Mount m = mounts.all().getFirst();
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/memory/ctr")), m.dirOf("/kubepods/pod1/ctr"));
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/memory")), m.dirOf("/kubepods/pod1"));
        assertEquals(Optional.empty(), m.dirOf("/kubepods/pod10/ctr"));
    }

    @Test
    void mountinfoEscapesAreDecoded() {
        CgroupMounts mounts = CgroupMounts.parse(List.of(
                "35 31 0:32 / /mnt/with\\040space rw - cgroup2 cgroup2 rw"));
        assertEquals(Path.of("/mnt/with space"), mounts.all().getFirst().mountPoint());
    }

    @Test
    void blkioLinesWithAndWithoutOp() {
        List<BlkIOEntry> entries = V1Metrics.parseBlkio(List.of(
                "8:0 Read 4096", "8:0 Write 8192", "8:0 Total 12288", "8:16 77", "Total 12288", ""));
        assertEquals(4, entries.size());
        assertEquals("Read", entries.get(0).getOp());
        assertEquals(4096, entries.get(0).getValue());
        assertEquals(8, entries.get(0).getMajor());
        assertEquals("", entries.get(3).getOp());
        assertEquals(16, entries.get(3).getMinor());
        assertEquals(77, entries.get(3).getValue());
    }

    @Test
    void blockDeviceNamesComeFromSysfs() throws Exception {
        Path someDisk;
        try (var devs = Files.list(Path.of("/sys/dev/block"))) {
            someDisk = devs.filter(p -> Files.exists(p.resolve("uevent"))).findFirst().orElse(null);
        }
        if (someDisk != null) {
            String[] mm = someDisk.getFileName().toString().split(":");
            String name = BlockDevices.name(Long.parseLong(mm[0]), Long.parseLong(mm[1]));
            assertTrue(name.startsWith("/dev/") && Files.exists(Path.of(name)), name);
        }
        assertEquals("", BlockDevices.name(4095, 1048575));
    }

    @Test
    void hugePageNamesAreTheKernelsFileNames(@TempDir Path tmp) throws Exception {
        assertEquals("2MB", HugePageSizes.name(2048));
        assertEquals("1GB", HugePageSizes.name(1048576));
        assertEquals("64KB", HugePageSizes.name(64));
        assertEquals("32MB", HugePageSizes.name(32768));
        Files.createDirectory(tmp.resolve("hugepages-1048576kB"));
        Files.createDirectory(tmp.resolve("hugepages-2048kB"));
        assertEquals(List.of("2MB", "1GB"), HugePageSizes.scan(tmp));
    }

    @Test
    void uintsClampNegativesAndReadMaxPerVersion() {
        assertEquals(0, CgroupFiles.parseUint("-1", CgroupFiles.Max.ZERO));
        assertEquals(0, CgroupFiles.parseUint("max", CgroupFiles.Max.ZERO));
        assertEquals(-1L, CgroupFiles.parseUint("max", CgroupFiles.Max.ALL_ONES));
        assertEquals(-2L, CgroupFiles.parseUint("18446744073709551614", CgroupFiles.Max.ZERO));
        assertEquals(9223372036854771712L, CgroupFiles.parseUint("9223372036854771712", CgroupFiles.Max.ZERO));
    }

    @Test
    void rdmaLines() {
        assertEquals(List.of(new RdmaLine("mlx5_1", 3, -1)),
                RdmaLine.parse(List.of("mlx5_1 hca_handle=3 hca_object=max", "garbage")));
    }

    @Test
    void linesSplitAsStringLinesDoes() {
        for (String text : new String[] {"", "\n", "a", "a\n", "a\nb", "a\r\nb\r\n", "a\rb\r", "\n\na\n\n", "a\r\r\nb",
                "1\n2\n3"}) {
            assertEquals(text.lines().toList(), CgroupFiles.splitLines(text), text.replace("\n", "\\n"));
        }
    }

    @Test
    void joinDropsLeadingSlashesAsTheRegexDid() {
        Path base = Path.of("/sys/fs/cgroup/memory");
        for (String absolute : new String[] {"", "/", "//", "/a", "//a/b", "a/b", "/a/"}) {
            String rel = absolute.replaceFirst("^/+", "");
            assertEquals(rel.isEmpty() ? base : base.resolve(rel), CgroupMounts.join(base, absolute), absolute);
        }
    }

    @Test
    void theLastCgroup2MountAtTheRootIsTheUnifiedOne() {
        CgroupMounts twice = CgroupMounts.parse(List.of(
                "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
                "31 22 0:27 / /other rw - cgroup2 cgroup2 rw",
                "32 22 0:28 /sub /sys/fs/cgroup rw - cgroup2 cgroup2 rw"));
        assertEquals("/sub", twice.unifiedMount().orElseThrow().root());
    }

    @Test
    void hugePageSizesAreTheHugepagesKbDirectories(@TempDir Path dir) throws Exception {
        for (String name : new String[] {"hugepages-2048kB", "hugepages-1048576kB", "hugepages-64kB", "hugepages-kB",
                "hugepages-12MB", "xhugepages-4kB", "hugepages-abckB"}) {
            Files.createDirectory(dir.resolve(name));
        }
        assertEquals(List.of("64KB", "2MB", "1GB"), HugePageSizes.scan(dir));
        assertEquals(List.of(), HugePageSizes.scan(dir.resolve("missing")));
    }
}
