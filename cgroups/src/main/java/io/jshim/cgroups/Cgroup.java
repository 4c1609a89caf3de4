package io.jshim.cgroups;

import java.io.IOException;

import io.jshim.proto.wkt.Any;

/**
 * A process's cgroup, found from /proc/PID/cgroup (v1: per-controller directories under the
 * hierarchies mounted in /proc/self/mountinfo; v2: the "0::" path under the cgroup2 mount).
 * Values only: holding one keeps no file open.
 */
public sealed interface Cgroup permits CgroupV1, CgroupV2 {

    /** Type URL of {@link #stats()} on a cgroup v1 host (no type.googleapis.com/ prefix: containerd's). */
    String V1_METRICS_TYPE_URL = "io.containerd.cgroups.v1.Metrics";
    /** Type URL of {@link #stats()} on a cgroup v2 host. */
    String V2_METRICS_TYPE_URL = "io.containerd.cgroups.v2.Metrics";

    /**
     * The cgroup {@code pid} is in now. v1 or v2 is decided as containerd does: v2 only when
     * /sys/fs/cgroup itself is a cgroup2 mount; hybrid and legacy hosts are v1.
     *
     * @throws java.nio.file.NoSuchFileException when the process does not exist
     */
    static Cgroup forPid(int pid) throws IOException {
        CgroupMounts mounts = CgroupMounts.read();
        ProcCgroup proc = ProcCgroup.read(pid);
        return mounts.unified() ? CgroupV2.locate(mounts, proc, pid) : CgroupV1.locate(mounts, proc, pid);
    }

    /**
     * The metrics as the Any containerd decodes: type URL {@link #V1_METRICS_TYPE_URL} or
     * {@link #V2_METRICS_TYPE_URL}, value the serialized Metrics.
     *
     * @throws CgroupGoneException when the cgroup was deleted (before or while reading)
     */
    Any stats() throws IOException;

    /** Whether the cgroup's directories still exist. */
    boolean exists();

    /**
     * The processes in the cgroup now (cgroup.procs); empty when it is gone. A process leaves its cgroup while
     * it exits, before it becomes a zombie, so an empty list means every member has been killed for good.
     */
    java.util.List<Integer> processes() throws IOException;

    /**
     * Whether any process is left in the cgroup or, on v2, in a cgroup below it (a container may nest its own);
     * false when it is gone.
     */
    default boolean populated() throws IOException {
        return !processes().isEmpty();
    }

    /**
     * Kills every process of the cgroup and of the cgroups below it at once, with no race against forks, where the
     * kernel offers it (cgroup v2's cgroup.kill, Linux 5.14; runc 1.2 uses it for kill --all). False when it does
     * not: the caller falls back to {@code runc kill --all}.
     */
    default boolean killAll() throws IOException {
        return false;
    }

    /** cgroup.procs of {@code dir}: one pid a line; none when the cgroup is gone. */
    static java.util.List<Integer> readProcs(java.nio.file.Path dir) throws IOException {
        java.util.List<Integer> pids = new java.util.ArrayList<>();
        for (String line : CgroupFiles.lines(dir.resolve("cgroup.procs")).orElse(java.util.List.of())) {
            String l = line.trim();
            if (!l.isEmpty()) {
                pids.add(Integer.valueOf(l));
            }
        }
        return java.util.List.copyOf(pids);
    }

    /**
     * Moves this process into the cgroup at {@code cgroupPath} (relative to each hierarchy root,
     * as the shim_cgroup option gives it), creating the directories that are missing: on a v1
     * host in every mounted v1 hierarchy, on a v2 host in the unified one.
     */
    static void moveSelfTo(String cgroupPath) throws IOException {
        movePidTo(ProcessHandle.current().pid(), cgroupPath);
    }

    /** As {@link #moveSelfTo}, for process {@code pid} (all its threads). */
    static void movePidTo(long pid, String cgroupPath) throws IOException {
        CgroupPlacement.move(CgroupMounts.read(), pid, cgroupPath);
    }
}
