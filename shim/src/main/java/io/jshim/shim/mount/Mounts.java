package io.jshim.shim.mount;

import io.jshim.proto.types.Mount;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Mounts a container's rootfs layers onto {@code <bundle>/rootfs} and takes them down again. */
public final class Mounts {
    private static final int MNT_DETACH = 2;
    private static final int EINVAL = 22;
    private static final int ENOENT = 2;

    private Mounts() {}

    /** Mounts each layer in order; on a failure unmounts what was mounted and throws. */
    public static void mountAll(List<Mount> mounts, Path target) throws IOException {
        List<Mount> done = new ArrayList<>();
        try {
            for (Mount m : mounts) {
                mount(m, target);
                done.add(m);
            }
        } catch (IOException e) {
            for (int i = 0; i < done.size(); i++) {
                unmountQuietly(target);
            }
            throw e;
        }
    }

    static void mount(Mount m, Path target) throws IOException {
        MountOptions o = MountOptions.parse(m.getOptionsList());
        String type = m.getType().equals("bind") ? "none" : m.getType();
        String t = target.toString();
        if (LibcMount.LIBC.mount(m.getSource(), t, type, o.flags(), o.data().isEmpty() ? null : o.data()) != 0) {
            throw new IOException("mount " + m.getType() + " " + m.getSource() + " on " + t + " with "
                    + m.getOptionsList() + ": " + strerror(LibcMount.errno()));
        }
        if (o.bindRemountReadOnly()) {
            long flags = o.flags() | MountOptions.MS_REMOUNT;
            if (LibcMount.LIBC.mount("", t, "", flags, null) != 0) {
                int errno = LibcMount.errno();
                unmountQuietly(target);
                throw new IOException("remount read-only " + t + ": " + strerror(errno));
            }
        }
        if (o.propagation() != 0 && LibcMount.LIBC.mount("", t, "", o.propagation(), null) != 0) {
            int errno = LibcMount.errno();
            unmountQuietly(target);
            throw new IOException("set propagation of " + t + ": " + strerror(errno));
        }
    }

    /** Unmounts everything stacked on {@code target} (and below it); fine when nothing is mounted. */
    public static void unmountAll(Path target) throws IOException {
        for (int guard = 0; guard < 1024 && isMountPoint(target); guard++) {
            if (LibcMount.LIBC.umount2(target.toString(), MNT_DETACH) != 0) {
                int errno = LibcMount.errno();
                if (errno == EINVAL || errno == ENOENT) {
                    return;
                }
                throw new IOException("unmount " + target + ": " + strerror(errno));
            }
        }
    }

    private static void unmountQuietly(Path target) {
        LibcMount.LIBC.umount2(target.toString(), MNT_DETACH);
    }

    /** Whether something is mounted at or below {@code target}, from /proc/self/mountinfo. */
    public static boolean isMountPoint(Path target) throws IOException {
        String t = target.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(t)) {
                return true;
            }
        }
        return false;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    static String strerror(int errno) {
        return switch (errno) {
            case 1 -> "operation not permitted (EPERM)";
            case 2 -> "no such file or directory (ENOENT)";
            case 13 -> "permission denied (EACCES)";
            case 16 -> "device or resource busy (EBUSY)";
            case 19 -> "no such device (ENODEV)";
            case 20 -> "not a directory (ENOTDIR)";
            case 22 -> "invalid argument (EINVAL)";
            default -> "errno " + errno;
        };
    }
}
