package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;

/** cgroup v2: inotify (IN_MODIFY) on memory.events and cgroup.events, as containerd does. */
final class V2OomWatch extends OomWatch {

    private static final Logger LOG = OomWatcher.LOG;

    final Path dir;

    private V2OomWatch(OomWatcher owner, int fd, long baseline, Runnable onOom, Path dir) {
        super(owner, fd, baseline, onOom);
        this.dir = dir;
    }

    static V2OomWatch open(OomWatcher owner, CgroupV2 cgroup, Runnable onOom) throws IOException {
        Path dir = cgroup.dir();
        Path memoryEvents = dir.resolve("memory.events");
        long baseline = V2Metrics.oomKills(dir)
                .orElseThrow(() -> Files.isDirectory(dir)
                        ? new NoSuchFileException(memoryEvents.toString(), null, "no memory controller")
                        : new CgroupGoneException(dir.toString()));
        LinuxNative.LibC libc = owner.libc;
        int ifd = libc.inotify_init1(LinuxNative.IN_CLOEXEC | LinuxNative.IN_NONBLOCK);
        if (ifd < 0) {
            throw LinuxNative.failure("inotify_init1");
        }
        try {
            addWatch(libc, ifd, memoryEvents);
            Path cgroupEvents = dir.resolve("cgroup.events");
            if (Files.exists(cgroupEvents)) {
                addWatch(libc, ifd, cgroupEvents);
            }
        } catch (IOException e) {
            libc.close(ifd);
            throw e;
        }
        return new V2OomWatch(owner, ifd, baseline, onOom, dir);
    }

    private static void addWatch(LinuxNative.LibC libc, int ifd, Path file) throws IOException {
        if (libc.inotify_add_watch(ifd, file.toString(), LinuxNative.IN_MODIFY) < 0) {
            throw LinuxNative.failure("inotify_add_watch " + file);
        }
    }

    @Override
    void onReadable() {
        owner.drain(fd);
        evaluate(true);
    }

    @Override
    void evaluate(boolean notified) {
        // populated before oom_kill: the kernel counts a kill before it sends the SIGKILL, and the cgroup is empty
        // only once its last process has exited, so a "populated 0" read first means the oom_kill read next
        // includes every kill. The other order loses a kill that lands between the reads.
        boolean emptied = notified && !populated();
        Optional<Map<String, Long>> events;
        try {
            events = CgroupFiles.readKeyValues(dir.resolve("memory.events"), CgroupFiles.Max.ALL_ONES);
        } catch (IOException e) {
            events = Optional.empty(); // ENODEV while the cgroup is being removed
        }
        if (events.isEmpty()) {
            LOG.debug("cgroup {} is gone; no longer watching it for OOM", dir);
            owner.release(this);
            return;
        }
        Long kills = events.get().get("oom_kill");
        if (kills != null) {
            reportKills(kills);
        }
        if (emptied) {
            LOG.debug("cgroup {} is empty; no longer watching it for OOM", dir);
            owner.release(this);
        }
    }

    /** cgroup.events "populated"; true when the file is absent or unreadable (keep watching). */
    private boolean populated() {
        try {
            return CgroupFiles.readKeyValues(dir.resolve("cgroup.events"), CgroupFiles.Max.ZERO)
                    .map(e -> e.getOrDefault("populated", 1L) != 0)
                    .orElseGet(() -> Files.isDirectory(dir));
        } catch (IOException e) {
            return Files.isDirectory(dir);
        }
    }

    @Override
    Optional<Long> killsNow() throws IOException {
        return CgroupFiles.readKeyValues(dir.resolve("memory.events"), CgroupFiles.Max.ALL_ONES)
                .map(events -> events.get("oom_kill"));
    }

    @Override
    String describe() {
        return dir.toString();
    }
}
