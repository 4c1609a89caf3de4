package io.jshim.cgroups;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Putting a process into a cgroup by path, creating it where missing (the shim_cgroup option). */
final class CgroupPlacement {

    private static final Logger LOG = LoggerFactory.getLogger(CgroupPlacement.class);

    private CgroupPlacement() {}

    static void move(CgroupMounts mounts, long pid, String cgroupPath) throws IOException {
        if (!cgroupPath.startsWith("/")) {
            cgroupPath = "/" + cgroupPath;
        }
        if (mounts.unified()) {
            CgroupMounts.Mount mount = mounts.unifiedMount().orElseThrow();
            Path dir = mount.dirOf(cgroupPath).orElse(CgroupMounts.join(mount.mountPoint(), cgroupPath));
            Files.createDirectories(dir);
            writeProcs(dir, pid);
            return;
        }
        List<String> failures = new ArrayList<>();
        List<CgroupMounts.Mount> hierarchies = mounts.v1Hierarchies();
        if (hierarchies.isEmpty()) {
            throw new IOException("no cgroup v1 hierarchy is mounted");
        }
        for (CgroupMounts.Mount mount : hierarchies) {
            Path dir = mount.dirOf(cgroupPath).orElse(CgroupMounts.join(mount.mountPoint(), cgroupPath));
            try {
                createDirectories(mount, dir);
                writeProcs(dir, pid);
            } catch (IOException e) {
                // keep going: the process still lands in the hierarchies that accept it
                LOG.warn("cannot move pid {} into {}: {}", pid, dir, e.toString());
                failures.add(dir + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new IOException("moving pid " + pid + " to cgroup " + cgroupPath + " failed in "
                    + failures.size() + " of " + hierarchies.size() + " hierarchies: " + String.join("; ", failures));
        }
    }

    /**
     * mkdir -p, except that a new cpuset cgroup starts with no CPUs and no memory nodes and takes
     * no process until given some: copy the parent's, as containerd and runc do.
     */
    private static void createDirectories(CgroupMounts.Mount mount, Path dir) throws IOException {
        boolean cpuset = mount.superOptions().contains("cpuset");
        Path root = mount.mountPoint();
        Path current = root;
        for (Path part : root.relativize(dir)) {
            Path parent = current;
            current = current.resolve(part);
            if (!Files.isDirectory(current)) {
                try {
                    Files.createDirectory(current);
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    // created by someone else meanwhile: fine
                }
            }
            if (cpuset) {
                inheritIfEmpty(parent, current, "cpuset.cpus");
                inheritIfEmpty(parent, current, "cpuset.mems");
            }
        }
    }

    private static void inheritIfEmpty(Path parent, Path child, String file) throws IOException {
        Path own = child.resolve(file);
        if (Files.exists(own) && Files.readString(own, StandardCharsets.US_ASCII).isBlank()) {
            Files.writeString(own, Files.readString(parent.resolve(file), StandardCharsets.US_ASCII).trim(),
                    StandardCharsets.US_ASCII);
        }
    }

    private static void writeProcs(Path dir, long pid) throws IOException {
        Files.writeString(dir.resolve("cgroup.procs"), Long.toString(pid), StandardCharsets.US_ASCII);
    }
}
