package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.protobuf.Any;

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
}
