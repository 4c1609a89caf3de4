package io.jshim.cgroups;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * cgroup v1: an eventfd registered through cgroup.event_control for memory.oom_control, as containerd does. A
 * wakeup only says "look" (see {@link OomWatcher}): the oom_kill counter is re-read a few times after it.
 */
final class V1OomWatch extends OomWatch {

    private static final Logger LOG = OomWatcher.LOG;
    /** First delay before re-reading oom_kill after a v1 notification; doubles each time. */
    private static final long FIRST_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final int RECHECKS = 8;

    final Path memoryDir;
    /** Re-read schedule after a notification; watcher thread only. */
    long recheckAt;
    long recheckDelay;
    int rechecksLeft;
    /** A notification not yet matched by a kill; watcher thread only. */
    boolean unresolved;

    private V1OomWatch(OomWatcher owner, int fd, long baseline, Runnable onOom, Path memoryDir) {
        super(owner, fd, baseline, onOom);
        this.memoryDir = memoryDir;
    }

    static V1OomWatch open(OomWatcher owner, CgroupV1 cgroup, Runnable onOom) throws IOException {
        Path dir = cgroup.dir("memory")
                .orElseThrow(() -> new IOException("cgroup has no memory controller: " + cgroup));
        Path oomControl = dir.resolve("memory.oom_control");
        long baseline = readOomControl(oomControl)
                .orElseThrow(() -> new CgroupGoneException(dir.toString()))
                .getOrDefault("oom_kill", 0L);
        LinuxNative.LibC libc = owner.libc;
        int efd = libc.eventfd(0, LinuxNative.EFD_CLOEXEC | LinuxNative.EFD_NONBLOCK);
        if (efd < 0) {
            throw LinuxNative.failure("eventfd");
        }
        int controlFd = libc.open(oomControl.toString(), LinuxNative.O_RDONLY | LinuxNative.O_CLOEXEC);
        if (controlFd < 0) {
            IOException e = LinuxNative.failure("open " + oomControl);
            libc.close(efd);
            throw e;
        }
        try {
            // the kernel keeps its own reference to memory.oom_control; ours can go at once
            Files.writeString(dir.resolve("cgroup.event_control"), efd + " " + controlFd,
                    StandardCharsets.US_ASCII);
        } catch (IOException e) {
            libc.close(efd);
            throw e;
        } finally {
            libc.close(controlFd);
        }
        return new V1OomWatch(owner, efd, baseline, onOom, dir);
    }

    @Override
    void onReadable() {
        long signals = owner.readCounter(fd);
        if (signals > 0) {
            evaluate(true);
        }
    }

    @Override
    void evaluate(boolean notified) {
        Optional<Map<String, Long>> oom = read();
        if (oom.isEmpty()) {
            // the cgroup was removed (which also signals the eventfd)
            if (unresolved) {
                owner.report(this, 1); // it went OOM and vanished before the kill was counted
            }
            LOG.debug("cgroup {} is gone; no longer watching it for OOM", memoryDir);
            owner.release(this);
            return;
        }
        Long kills = oom.get().get("oom_kill");
        if (kills == null || oom.get().getOrDefault("oom_kill_disable", 0L) == 1) {
            // Nothing to count: before 4.13 there is no oom_kill line; with the OOM killer
            // disabled no kill follows and the tasks wait under OOM. Report each wakeup once,
            // as containerd does.
            if (notified) {
                owner.report(this, 1);
            }
            return;
        }
        boolean killed = reportKills(kills);
        if (killed) {
            unresolved = false;
        } else if (notified) {
            LOG.debug("OOM notification for {}: no kill counted yet", memoryDir);
            unresolved = true;
        }
        if (notified) {
            rechecksLeft = RECHECKS;
            recheckDelay = FIRST_RECHECK_NANOS;
            recheckAt = System.nanoTime() + recheckDelay;
            owner.rechecking.add(this);
        }
    }

    void recheck() {
        evaluate(false);
        if (released.get()) {
            return;
        }
        if (--rechecksLeft <= 0) {
            owner.rechecking.remove(this);
            unresolved = false; // a notification with no kill: the victim was already exiting
            return;
        }
        recheckDelay *= 2;
        recheckAt = System.nanoTime() + recheckDelay;
    }

    private Optional<Map<String, Long>> read() {
        try {
            return readOomControl(memoryDir.resolve("memory.oom_control"));
        } catch (IOException e) {
            return Optional.empty(); // ENODEV while the cgroup is being removed
        }
    }

    static Optional<Map<String, Long>> readOomControl(Path file) throws IOException {
        return CgroupFiles.readKeyValues(file, CgroupFiles.Max.ZERO);
    }

    @Override
    Optional<Long> killsNow() throws IOException {
        // with the OOM killer disabled each wakeup is a report of its own: only the watcher can say
        return readOomControl(memoryDir.resolve("memory.oom_control"))
                .filter(oom -> oom.getOrDefault("oom_kill_disable", 0L) != 1)
                .map(oom -> oom.get("oom_kill"));
    }

    @Override
    String describe() {
        return memoryDir.toString();
    }
}

