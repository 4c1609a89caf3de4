package io.jshim.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cgroup v2's emptiness signal and kill switch over files laid out as cgroup2 presents them (the real ones are proven
 * on the v2 guest, CgroupV2GuestTest's kill-all-shared-pidns and cgroup-kill checks).
 */
class CgroupV2KillTest {

    @Test
    void populatedIsCgroupEventsWhereItExists(@TempDir Path dir) throws Exception {
        CgroupV2 cgroup = new CgroupV2(dir);
        Files.writeString(dir.resolve("cgroup.procs"), ""); // processes only in cgroups below: still populated
        Files.writeString(dir.resolve("cgroup.events"), "populated 1\nfrozen 0\n");
        assertTrue(cgroup.populated());
        Files.writeString(dir.resolve("cgroup.events"), "populated 0\nfrozen 0\n");
        assertFalse(cgroup.populated());
    }

    @Test
    void withoutCgroupEventsPopulatedReadsCgroupProcs(@TempDir Path dir) throws Exception {
        CgroupV2 cgroup = new CgroupV2(dir);
        Files.writeString(dir.resolve("cgroup.procs"), "12\n13\n");
        assertTrue(cgroup.populated());
        Files.writeString(dir.resolve("cgroup.procs"), "");
        assertFalse(cgroup.populated());
        assertFalse(new CgroupV2(dir.resolve("gone")).populated(), "a removed cgroup holds nothing");
    }

    @Test
    void killAllWritesCgroupKillWhereTheKernelHasIt(@TempDir Path dir) throws Exception {
        CgroupV2 cgroup = new CgroupV2(dir);
        assertFalse(cgroup.killAll(), "no cgroup.kill (kernel < 5.14): the caller falls back to runc kill --all");
        Files.writeString(dir.resolve("cgroup.kill"), "");
        assertTrue(cgroup.killAll());
        assertEquals("1", Files.readString(dir.resolve("cgroup.kill")));
    }
}
