package io.jshim.test;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.ttrpc.TtrpcClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real shim daemon (the process containerd started), seen from outside as an operator would: its pid and
 * socket from the bundle, and its fds, threads, ptys, RSS, heap and zombie children from /proc and jcmd.
 */
public final class ShimDaemon {
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
    private final int pid;
    private final Path socket;

    public ShimDaemon(int pid, Path socket) {
        this.pid = pid;
        this.socket = socket;
    }

    /** The daemon serving {@code bundle}: {@code shim.pid} and {@code address} written by {@code start}. */
    public static ShimDaemon ofBundle(Path bundle) throws IOException {
        int pid = Integer.parseInt(Files.readString(bundle.resolve("shim.pid")).trim());
        String address = Files.readString(bundle.resolve("address")).trim();
        return new ShimDaemon(pid, Path.of(address.substring("unix://".length())));
    }

    /** The bundle containerd made for {@code id}. */
    public static Path bundleOf(PrivateContainerd containerd, String id) {
        return containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace()).resolve(id);
    }

    public int pid() {
        return pid;
    }

    public Path socket() {
        return socket;
    }

    /** A ttrpc client on the daemon's socket, as containerd connects (same uid: root). */
    public TtrpcClient connect() throws IOException {
        return TtrpcClient.connect(socket, Duration.ofSeconds(5));
    }

    public boolean alive() {
        return alive(pid);
    }

    /** Whether a process runs: it exists and is not a zombie (which kill -0 would still find). */
    public static boolean alive(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return false;
        }
    }

    public int fdCount() throws IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return (int) fds.count();
        }
    }

    /** The daemon's open fds by kind (pipe, socket, anon_inode:[eventfd], /dev/pts/ptmx...), for diagnostics. */
    public Map<String, Integer> fdKinds() throws IOException {
        Map<String, Integer> kinds = new TreeMap<>();
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                kinds.merge(target.replaceAll(":\\[\\d+\\]$", "").replaceAll("^/dev/pts/\\d+$", "/dev/pts/N"), 1,
                        Integer::sum);
            }
        }
        return kinds;
    }

    /** Open pty masters (/dev/ptmx and /dev/pts/ptmx). */
    public int ptyCount() throws IOException {
        return fdKinds().entrySet().stream().filter(e -> e.getKey().endsWith("ptmx")).mapToInt(Map.Entry::getValue)
                .sum();
    }

    public int threadCount() throws IOException {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return (int) tasks.count();
        }
    }

    public long rssKb() throws IOException {
        return statusField("VmRSS");
    }

    private long statusField(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(name + ":")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IOException(name + " not in /proc/" + pid + "/status");
    }

    /** Children of the daemon that have exited and were not reaped. */
    public List<Integer> zombieChildren() throws IOException {
        List<Integer> zombies = new ArrayList<>();
        for (int child : children()) {
            try {
                String stat = Files.readString(Path.of("/proc/" + child + "/stat"));
                if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
                    zombies.add(child);
                }
            } catch (IOException gone) {
                // reaped meanwhile
            }
        }
        return zombies;
    }

    /** Direct children of the daemon (from every thread's children list). */
    public List<Integer> children() throws IOException {
        List<Integer> out = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    for (String c : Files.readString(t.resolve("children")).trim().split("\\s+")) {
                        if (!c.isEmpty()) {
                            out.add(Integer.parseInt(c));
                        }
                    }
                } catch (IOException gone) {
                    // thread ended
                }
            }
        }
        return out;
    }

    /** Forces a full GC in the daemon (jcmd GC.run) and returns the heap in use afterwards, in KiB. */
    public long heapUsedAfterGcKb() throws Exception {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        Matcher m;
        long used = 0;
        // SerialGC reports each generation ("DefNew ... used NK", "Tenured ... used NK"): the heap is their sum.
        int generations = 0;
        for (String line : info.lines().toList()) {
            String t = line.trim();
            if ((t.startsWith("def new generation") || t.startsWith("tenured generation") || t.startsWith("DefNew")
                    || t.startsWith("Tenured") || t.startsWith("garbage-first heap") || t.startsWith("PSYoungGen")
                    || t.startsWith("ParOldGen"))
                    && (m = HEAP_USED.matcher(t)).find()) {
                used += Long.parseLong(m.group(1));
                generations++;
            }
        }
        if (generations == 0) {
            throw new IOException("no heap figures in jcmd GC.heap_info: " + info);
        }
        return used;
    }

    /** Raw {@code jcmd <pid> <command>} output, for diagnostics. */
    public String jcmd(String command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(jcmd.toString(), Integer.toString(pid), command),
                null, Duration.ofSeconds(60));
        if (r.status() != 0) {
            throw new IOException("jcmd " + pid + " " + command + ": " + r.stdoutText() + r.stderrText());
        }
        return r.stdoutText();
    }

    /** A one-line picture of the daemon's resources for reports. */
    public String figures() throws IOException {
        return "fds=" + fdCount() + " threads=" + threadCount() + " ptys=" + ptyCount() + " rss=" + rssKb() + "KiB";
    }
}
