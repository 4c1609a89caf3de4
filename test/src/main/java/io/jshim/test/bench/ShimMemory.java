package io.jshim.test.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory of every shim process one containerd started, summed: found by the containerd address on their
 * command line ({@code -address <socket>}), which both shims carry and nothing else on the machine does. jshim's
 * waiting standby is counted apart ({@link #standbyPids}): a node pays it once, not per pod.
 */
record ShimMemory(int processes, long rssKb, long anonKb, long pssKb, int threads) {

    static List<Integer> shimPids(Path containerdSocket) {
        return pids(containerdSocket, false);
    }

    /** jshim's waiting standbys ({@code ... standby CONTROL PID}, working directory /: not adopted yet). */
    static List<Integer> standbyPids(Path containerdSocket) {
        return pids(containerdSocket, true);
    }

    private static List<Integer> pids(Path containerdSocket, boolean standbys) {
        String marker = "-address\0" + containerdSocket + "\0";
        List<Integer> pids = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = Files.readString(p.resolve("cmdline"));
                    // start/delete are short-lived helpers, not shims kept around
                    if (cmdline.contains(marker) && !cmdline.endsWith("\0start\0") && !cmdline.endsWith("\0delete\0")
                            && standbys == isStandby(p, cmdline)) {
                        pids.add(Integer.parseInt(p.getFileName().toString()));
                    }
                } catch (IOException | RuntimeException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return pids;
    }

    private static boolean isStandby(Path proc, String cmdline) throws IOException {
        return cmdline.contains("\0standby\0") && Files.readSymbolicLink(proc.resolve("cwd")).toString().equals("/");
    }

    static ShimMemory of(Path containerdSocket) {
        return of(shimPids(containerdSocket));
    }

    static ShimMemory of(List<Integer> pids) {
        int n = 0;
        long rss = 0;
        long anon = 0;
        long pss = 0;
        int threads = 0;
        for (int pid : pids) {
            try {
                String rollup = Files.readString(Path.of("/proc/" + pid + "/smaps_rollup"));
                String status = Files.readString(Path.of("/proc/" + pid + "/status"));
                rss += field(rollup, "Rss:");
                pss += field(rollup, "Pss:");
                anon += field(status, "RssAnon:");
                threads += (int) field(status, "Threads:");
                n++;
            } catch (IOException gone) {
                // exited meanwhile
            }
        }
        return new ShimMemory(n, rss, anon, pss, threads);
    }

    private static long field(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name)) {
                return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
            }
        }
        return 0;
    }

    double rssMb() {
        return rssKb / 1024.0;
    }

    double anonMb() {
        return anonKb / 1024.0;
    }

    double pssMb() {
        return pssKb / 1024.0;
    }
}
