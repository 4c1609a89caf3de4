package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.jshim.proto.wkt.Any;

import io.jshim.proto.cgroups.v1.Metrics;

/**
 * A cgroup on a v1 (legacy or hybrid) host: one directory per controller, keyed by controller
 * name as /proc/PID/cgroup lists it ("memory", "cpu", "cpuacct", "name=systemd", ...); co-mounted
 * controllers ("cpu,cpuacct") each map to the shared directory.
 */
public record CgroupV1(Map<String, Path> controllers) implements Cgroup {

    public CgroupV1 {
        controllers = Map.copyOf(controllers);
    }

    static CgroupV1 locate(CgroupMounts mounts, ProcCgroup proc, int pid) throws IOException {
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (ProcCgroup.Entry entry : proc.entries()) {
            for (String controller : entry.controllers()) {
                mounts.v1MountFor(controller, entry.path())
                        .flatMap(m -> m.dirOf(entry.path()))
                        .ifPresent(dir -> dirs.put(controller, dir));
            }
        }
        if (dirs.isEmpty()) {
            throw new IOException("no mounted cgroup v1 hierarchy holds pid " + pid);
        }
        return new CgroupV1(dirs);
    }

    /** The directory of {@code controller} ("memory", "pids", ...), if that hierarchy is mounted. */
    public Optional<Path> dir(String controller) {
        return Optional.ofNullable(controllers.get(controller));
    }

    /** The metrics {@link #stats()} wraps. */
    public Metrics metrics() throws IOException {
        if (!exists()) {
            throw gone(null);
        }
        Metrics metrics;
        try {
            metrics = V1Metrics.read(this);
        } catch (IOException e) {
            if (!exists()) {
                throw gone(e); // removed while reading: some files vanished or read ENODEV
            }
            throw e;
        }
        if (!exists()) {
            throw gone(null); // removed while reading: what was read may be partial
        }
        return metrics;
    }

    @Override
    public Any stats() throws IOException {
        return Any.newBuilder().setTypeUrl(V1_METRICS_TYPE_URL).setValue(metrics().toByteString()).build();
    }

    /** True while every controller directory exists (runc removes them all on delete). */
    @Override
    public boolean exists() {
        for (Path dir : controllers.values()) { // a loop, not a stream: the daemon's boot should not load streams
            if (!Files.isDirectory(dir)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public java.util.List<Integer> processes() throws IOException {
        // every hierarchy holds the same processes; any controller's directory answers
        Optional<Path> any = dir("pids").or(() -> dir("memory"))
                .or(() -> controllers.isEmpty() ? Optional.empty() : Optional.of(controllers.values().iterator().next()));
        return any.isPresent() ? Cgroup.readProcs(any.get()) : java.util.List.of();
    }

    private CgroupGoneException gone(Throwable cause) {
        String where = dir("memory").orElseGet(() -> controllers.values().iterator().next()).toString();
        return cause == null ? new CgroupGoneException(where) : new CgroupGoneException(where, cause);
    }
}
