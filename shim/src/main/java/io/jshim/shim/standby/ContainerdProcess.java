package io.jshim.shim.standby;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process known by pid and start time (field 22 of /proc/PID/stat), so a reused pid is not taken for it. */
final class ContainerdProcess {
    private ContainerdProcess() {}

    /** The start time of {@code pid}, or null when no such process runs (or it is a zombie). */
    static String startTime(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return f[0].equals("Z") ? null : f[19]; // fields from 3 on; 22 - 3 = 19
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
