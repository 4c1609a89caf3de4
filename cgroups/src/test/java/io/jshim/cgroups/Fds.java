package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** This JVM's open file descriptors, by what they point at. */
final class Fds {

    private Fds() {}

    static List<String> targets() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(p -> {
                try {
                    return Files.readSymbolicLink(p).toString();
                } catch (IOException gone) {
                    return ""; // closed meanwhile (the listing's own fd, another thread's)
                }
            }).filter(t -> !t.isEmpty()).toList();
        }
    }

    /** eventfds, inotify instances and epoll sets: what the OOM watcher opens. */
    static long watcherKind() throws IOException {
        return targets().stream().filter(t -> t.equals("anon_inode:[eventfd]")
                || t.equals("anon_inode:inotify") || t.equals("anon_inode:[eventpoll]")).count();
    }

    /** Files under /sys/fs/cgroup (what stats() reads). */
    static long cgroupFiles() throws IOException {
        return targets().stream().filter(t -> t.startsWith("/sys/fs/cgroup")).count();
    }

    static long total() throws IOException {
        return targets().size();
    }
}
