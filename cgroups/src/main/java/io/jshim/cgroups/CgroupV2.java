package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.jshim.proto.wkt.Any;

import io.jshim.proto.cgroups.v2.Metrics;

/** A cgroup on a unified (cgroup v2) host: one directory. */
public record CgroupV2(Path dir) implements Cgroup {

    static CgroupV2 locate(CgroupMounts mounts, ProcCgroup proc, int pid) throws IOException {
        String path = proc.unifiedPath()
                .orElseThrow(() -> new IOException("pid " + pid + " has no cgroup2 (0::) entry"));
        CgroupMounts.Mount mount = mounts.unifiedMount()
                .orElseThrow(() -> new IOException("no cgroup2 file system is mounted"));
        return new CgroupV2(mount.dirOf(path)
                .orElseThrow(() -> new IOException("cgroup " + path + " of pid " + pid
                        + " is outside the cgroup2 mount at " + mount.mountPoint())));
    }

    /** The metrics {@link #stats()} wraps. */
    public Metrics metrics() throws IOException {
        if (!exists()) {
            throw new CgroupGoneException(dir.toString());
        }
        Metrics metrics;
        try {
            metrics = V2Metrics.read(dir);
        } catch (IOException e) {
            if (!exists()) {
                throw new CgroupGoneException(dir.toString(), e);
            }
            throw e;
        }
        if (!exists()) {
            throw new CgroupGoneException(dir.toString());
        }
        return metrics;
    }

    @Override
    public Any stats() throws IOException {
        return Any.newBuilder().setTypeUrl(V2_METRICS_TYPE_URL).setValue(metrics().toByteString()).build();
    }

    @Override
    public boolean exists() {
        return Files.isDirectory(dir);
    }

    @Override
    public java.util.List<Integer> processes() throws IOException {
        return Cgroup.readProcs(dir);
    }

    /** cgroup.events' "populated": it counts the cgroups below too, and one read of it is cheaper than cgroup.procs. */
    @Override
    public boolean populated() throws IOException {
        try {
            java.util.Optional<java.util.Map<String, Long>> events =
                    CgroupFiles.readKeyValues(dir.resolve("cgroup.events"), CgroupFiles.Max.ZERO);
            if (events.isPresent() && events.get().containsKey("populated")) {
                return events.get().get("populated") != 0;
            }
        } catch (IOException e) {
            if (!exists()) {
                return false; // ENODEV while the cgroup is being removed
            }
            throw e;
        }
        return exists() && !processes().isEmpty();
    }

    @Override
    public boolean killAll() throws IOException {
        Path kill = dir.resolve("cgroup.kill");
        if (!Files.exists(kill) || Cgroup.forPid((int) ProcessHandle.current().pid()) instanceof CgroupV2 self
                && self.dir().startsWith(dir)) {
            return false; // never kill ourselves: leave a cgroup that holds the shim to runc's pid-by-pid kill
        }
        try {
            Files.writeString(kill, "1", java.nio.charset.StandardCharsets.US_ASCII);
        } catch (java.nio.file.NoSuchFileException gone) {
            // removed meanwhile: nothing left to kill
        }
        return true;
    }
}
