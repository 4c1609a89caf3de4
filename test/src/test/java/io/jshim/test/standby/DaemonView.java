package io.jshim.test.standby;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** What a daemon process looks like from outside, in the terms an adopted and a cold daemon must agree on. */
record DaemonView(Path cwd, String oomScoreAdj, String cgroup, List<String> status, String session,
                  Map<String, Set<String>> scheduling, List<String> fds, String socketModeAndOwner) {
    private static final List<String> STATUS = List.of("Umask", "State", "Uid", "Gid", "Groups", "NoNewPrivs",
            "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Cpus_allowed_list", "Mems_allowed_list",
            "SigBlk", "SigIgn", "SigCgt");

    static DaemonView of(int pid, Path bundle) throws IOException {
        Path proc = Path.of("/proc/" + pid);
        List<String> status = new ArrayList<>();
        for (String line : Files.readAllLines(proc.resolve("status"))) {
            String name = line.substring(0, Math.max(0, line.indexOf(':')));
            if (STATUS.contains(name)) {
                status.add(line);
            }
        }
        String[] stat = fields(proc.resolve("stat"));
        String session = (stat[4].equals(Integer.toString(pid)) ? "own group" : "group " + stat[4]) + ", "
                + (stat[5].equals(Integer.toString(pid)) ? "own session" : "session " + stat[5]);
        // per thread name (numbers taken out): the set of (policy, nice) its threads have
        Map<String, Set<String>> scheduling = new TreeMap<>();
        try (var tasks = Files.list(proc.resolve("task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String[] f = fields(task.resolve("stat"));
                    String comm = Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+", "#");
                    scheduling.computeIfAbsent(comm, k -> new TreeSet<>()).add("policy " + f[40] + " nice " + f[18]);
                } catch (IOException ended) {
                    // a thread that ended meanwhile
                }
            }
        }
        List<String> fds = new ArrayList<>();
        try (var list = Files.list(proc.resolve("fd"))) {
            for (Path fd : list.toList()) {
                try {
                    fds.add(Files.readSymbolicLink(fd).toString().replace(bundle.toString(), "<bundle>")
                            .replaceAll("\\[[0-9]+\\]", ""));
                } catch (IOException closed) {
                    // closed meanwhile
                }
            }
        }
        fds.sort(null);
        String address = Files.readString(bundle.resolve("address")).strip();
        PosixFileAttributes socket = Files.readAttributes(Path.of(address.substring("unix://".length())),
                PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new DaemonView(Files.readSymbolicLink(proc.resolve("cwd")),
                Files.readString(proc.resolve("oom_score_adj")).strip(), Files.readString(proc.resolve("cgroup")),
                status, session, scheduling, fds, PosixFilePermissions.toString(socket.permissions()) + " "
                + socket.owner().getName() + ":" + socket.group().getName());
    }

    /** The fields of a stat file, numbered from 0 (pid) as in proc(5) minus one; the name may hold spaces. */
    private static String[] fields(Path stat) throws IOException {
        String s = Files.readString(stat);
        String rest = s.substring(s.lastIndexOf(')') + 2);
        String[] after = rest.split(" ");
        String[] all = new String[after.length + 2];
        all[0] = s.substring(0, s.indexOf(' '));
        all[1] = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
        System.arraycopy(after, 0, all, 2, after.length);
        return all;
    }
}
