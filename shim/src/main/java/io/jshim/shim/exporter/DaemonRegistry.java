package io.jshim.shim.exporter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The node's register of serving jshim daemons, read by the exporter ({@link Discovery}): a file {@code <pid>} per
 * daemon under {@link #DIR} with its socket, namespace, containerd address and /proc start time (so that a reused
 * pid is told apart). A daemon registers once it serves (cold or adopted, never while a standby) and removes its
 * file at exit; a killed daemon's file is removed by the exporter. This class is all the daemon loads of it: it
 * writes one small file, so it costs the cold path a few file calls.
 */
public final class DaemonRegistry {
    public static final Path DIR = Path.of("/run/jshim/daemons");

    private DaemonRegistry() {}

    /**
     * Writes this process's registration in {@code dir} atomically (temp file, then rename; mode 0600); returns
     * the file, to remove at exit.
     */
    public static Path register(Path dir, int pid, Path socket, String namespace, String containerdAddress)
            throws IOException {
        String text = "pid=" + pid + "\nstart_time=" + startTime(pid) + "\nsocket=" + socket + "\nnamespace="
                + namespace + "\ncontainerd_address=" + containerdAddress + "\n";
        if (text.chars().filter(c -> c == '\n').count() != 5) {
            throw new IOException("a line break in a registration value: " + text);
        }
        Files.createDirectories(dir);
        Path file = dir.resolve(Integer.toString(pid));
        Path temp = dir.resolve("." + pid + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(temp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    /** Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot (proc(5)). */
    static long startTime(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // after the comm field (which may hold spaces and ')'): field 3, state, onwards; start time is field 22
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        try {
            return Long.parseLong(f[22 - 3]);
        } catch (RuntimeException e) {
            throw new IOException("unreadable /proc/" + pid + "/stat: " + stat, e);
        }
    }
}
