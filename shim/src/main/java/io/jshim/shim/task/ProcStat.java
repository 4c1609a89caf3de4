package io.jshim.shim.task;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What /proc/PID/stat says of a process's death (proc(5)). */
final class ProcStat {
    /** PF_EXITING in /proc/PID/stat's flags: set as do_exit begins, before the namespaces are torn down. */
    private static final long PF_EXITING = 0x4;

    private ProcStat() {}

    /** Whether the kernel says {@code pid} is dying or dead: exiting, a zombie not yet reaped, or gone. */
    static boolean hasDied(int pid) {
        if (pid <= 0) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // after the comm field (which may hold spaces and ')'): state ppid pgrp session tty_nr tpgid flags ...
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            char state = f[0].charAt(0);
            return state == 'Z' || state == 'X' || state == 'x' || (Long.parseLong(f[6]) & PF_EXITING) != 0;
        } catch (IOException e) {
            return true; // no /proc entry: already reaped
        } catch (RuntimeException unreadable) {
            return false; // a stat line we cannot read says nothing of a death
        }
    }
}
