package io.jshim.shim.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The daemon's resident set size and thread count from {@code /proc/self/status} (proc(5)): read from the kernel
 * rather than through java.lang.management, whose MXBeans would load a good part of JMX into the daemon.
 */
record ProcSelf(long rssBytes, long threads) {

    static ProcSelf read() {
        try {
            return parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            return new ProcSelf(-1, -1);
        }
    }

    static ProcSelf parse(String status) {
        long rss = -1;
        long threads = -1;
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024; // in kB
            } else if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.substring(8).trim());
            }
        }
        return new ProcSelf(rss, threads);
    }
}
