package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The cgroup file systems this process sees, read from /proc/self/mountinfo. */
record CgroupMounts(List<Mount> all) {

    /** One mountinfo line reduced to what locating a cgroup needs. */
    record Mount(Path mountPoint, String root, String fsType, Set<String> superOptions) {

        boolean isCgroup1() {
            return fsType.equals("cgroup");
        }

        boolean isCgroup2() {
            return fsType.equals("cgroup2");
        }

        /**
         * The directory of the cgroup at {@code cgroupPath} (as /proc/PID/cgroup shows it) under
         * this mount, or empty when the mount's root does not contain it (a bind mount of a
         * sub-tree, as inside a container).
         */
        Optional<Path> dirOf(String cgroupPath) {
            String relative;
            if (root.equals("/")) {
                relative = cgroupPath;
            } else if (cgroupPath.equals(root)) {
                relative = "/";
            } else if (cgroupPath.startsWith(root + "/")) {
                relative = cgroupPath.substring(root.length());
            } else {
                return Optional.empty();
            }
            return Optional.of(join(mountPoint, relative));
        }
    }

    static final Path SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");
    static final Path DEFAULT_ROOT = Path.of("/sys/fs/cgroup");

    static CgroupMounts read() throws IOException {
        return parse(Files.readAllLines(SELF_MOUNTINFO));
    }

    static CgroupMounts parse(List<String> lines) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : lines) {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] head = line.substring(0, dash).split(" ");
            String[] tail = line.substring(dash + 3).split(" ");
            if (head.length < 5 || tail.length < 3) {
                continue;
            }
            String fsType = tail[0];
            if (!fsType.equals("cgroup") && !fsType.equals("cgroup2")) {
                continue;
            }
            mounts.add(new Mount(Path.of(unescape(head[4])), unescape(head[3]), fsType,
                    Set.copyOf(Arrays.asList(tail[2].split(",")))));
        }
        return new CgroupMounts(List.copyOf(mounts));
    }

    /**
     * True when the host runs cgroup v2 alone: /sys/fs/cgroup itself is a cgroup2 mount. A hybrid
     * host (v1 hierarchies plus a cgroup2 mount elsewhere, e.g. /sys/fs/cgroup/unified) is v1,
     * which is how containerd decides (cgroups.Mode() == Unified).
     */
    boolean unified() {
        Mount atRoot = null;
        for (Mount m : all) {
            if (m.mountPoint().equals(DEFAULT_ROOT)) {
                atRoot = m; // the last mount on a point is the visible one
            }
        }
        return atRoot != null && atRoot.isCgroup2();
    }

    /** The v1 hierarchy mount carrying {@code controller} ("memory", "name=systemd", ...). */
    Optional<Mount> v1MountFor(String controller, String cgroupPath) {
        // loops rather than streams here and below: the daemon's boot runs them, and every class the AOT training
        // loads is loaded at each daemon's boot
        for (Mount m : all) {
            if (m.isCgroup1() && m.superOptions().contains(controller) && m.dirOf(cgroupPath).isPresent()) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Every v1 hierarchy mount, one per distinct set of controllers. */
    List<Mount> v1Hierarchies() {
        List<Mount> out = new ArrayList<>();
        for (Mount m : all) {
            if (m.isCgroup1() && !hasOptions(out, m.superOptions())) {
                out.add(m);
            }
        }
        return out;
    }

    private static boolean hasOptions(List<Mount> mounts, Set<String> superOptions) {
        for (Mount o : mounts) {
            if (o.superOptions().equals(superOptions)) {
                return true;
            }
        }
        return false;
    }

    Optional<Mount> unifiedMount() {
        boolean unified = unified();
        Mount found = null;
        for (Mount m : all) {
            if (m.isCgroup2() && (!unified || m.mountPoint().equals(DEFAULT_ROOT))) {
                found = m;
                if (!unified) {
                    break; // the first cgroup2 mount; at the root, the last one (the visible one)
                }
            }
        }
        return Optional.ofNullable(found);
    }

    static Path join(Path base, String absolute) {
        int slashes = 0;
        while (slashes < absolute.length() && absolute.charAt(slashes) == '/') {
            slashes++;
        }
        String rel = absolute.substring(slashes);
        return rel.isEmpty() ? base : base.resolve(rel);
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }
}
