package io.jshim.test.cri;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a CRI test checks on the machine through /proc: the shims one containerd started (found by its address on
 * their command line, {@code -address <socket>}, which no other process carries), parents, mounts.
 */
public final class CriProcesses {
    private CriProcesses() {}

    /** Shim processes kept by the containerd at {@code socket} (not the short-lived start and delete commands). */
    public static List<Integer> shimPids(Path socket) {
        String marker = "-address\0" + socket + "\0";
        List<Integer> pids = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = Files.readString(p.resolve("cmdline"));
                    if (cmdline.contains(marker) && !cmdline.endsWith("\0start\0") && !cmdline.endsWith("\0delete\0")) {
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

    /**
     * The pid of jshim's warm standby for the containerd at {@code socket} once it listens on its control socket
     * ({@code ... standby CONTROL CONTAINERD_PID}, working directory /: not adopted); fails after {@code timeout}.
     */
    public static int awaitStandby(Path socket, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (int pid : standbyPids(socket)) {
                if (listens(pid)) {
                    return pid;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no standby listening after " + timeout + ": " + standbyPids(socket));
            }
            Thread.sleep(20);
        }
    }

    /**
     * Whether standby {@code pid} listens on its control socket, the second-last argument of its command line (read
     * as it may be between the execs of perl, setsid, chrt and java, which boot it: then false).
     */
    private static boolean listens(int pid) throws IOException {
        List<String> args;
        try {
            args = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        } catch (IOException gone) {
            return false;
        }
        if (args.size() < 3 || !args.get(args.size() - 3).equals("standby")) {
            return false;
        }
        String control = args.get(args.size() - 2);
        return Files.readString(Path.of("/proc/net/unix")).lines()
                .anyMatch(l -> l.endsWith(" " + control) && l.contains(" 00010000 0001 01 "));
    }

    /** jshim's waiting standbys for the containerd at {@code socket}, listening or still booting. */
    public static List<Integer> standbyPids(Path socket) {
        List<Integer> standbys = new ArrayList<>();
        for (int pid : shimPids(socket)) {
            try {
                if (commandLine(pid).contains(" standby ")
                        && Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd")).toString().equals("/")) {
                    standbys.add(pid);
                }
            } catch (IOException gone) {
                // exited or adopted meanwhile
            }
        }
        return standbys;
    }

    public static int parent(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // after "(comm)", which may hold spaces: state, then ppid
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    public static String commandLine(int pid) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ').trim();
    }

    public static boolean alive(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException gone) {
            return false;
        }
    }

    /** Waits until {@code pid} is gone (or a zombie), failing after {@code timeout}. */
    public static void awaitGone(int pid, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (alive(pid)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("process " + pid + " still alive after " + timeout);
            }
            Thread.sleep(20);
        }
    }

    /** Mount points of this mount namespace at or under {@code dir}. */
    public static List<String> mountsUnder(Path dir) throws IOException {
        String prefix = dir.toRealPath().toString();
        List<String> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String mountPoint = line.split(" ")[4].replace("\\040", " ");
            if (mountPoint.equals(prefix) || mountPoint.startsWith(prefix + "/")) {
                found.add(mountPoint);
            }
        }
        return found;
    }
}
