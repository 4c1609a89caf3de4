package io.jshim.cgroups;

import static io.jshim.cgroups.LinuxNative.EAGAIN;
import static io.jshim.cgroups.LinuxNative.EINTR;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Reports OOM kills in cgroups. One platform thread ("jshim-oom") serves every watched cgroup of
 * the shim with a single epoll set:
 * <ul>
 * <li>cgroup v1: an eventfd registered through cgroup.event_control for memory.oom_control, as
 * containerd does. The kernel signals it when the cgroup goes OOM, which is <em>before</em> the
 * OOM killer picks a victim, may happen more than once per kill (several tasks fault at once) or
 * with no kill (the victim was already exiting), and also when the cgroup is removed. So a
 * wakeup only says "look": onOom is called once per increase of memory.oom_control's
 * {@code oom_kill} counter, re-read a few times over the next ~1.3 s because the kill lands just
 * after the notification. With the OOM killer disabled (oom_kill_disable 1) there are no kills
 * to count and each wakeup is reported once, as containerd publishes per wakeup.</li>
 * <li>cgroup v2: inotify (IN_MODIFY) on memory.events and cgroup.events, again as containerd
 * does; chosen over polling because the kernel notifies each change of these files, so kills
 * are seen at once and an idle shim does no work. onOom is called once per increase of
 * {@code oom_kill}; the watch ends when cgroup.events says {@code populated 0} or the cgroup
 * is deleted.</li>
 * </ul>
 * File descriptors of a watch are only ever read and closed on the watcher thread, so a number
 * is never reused under a read in flight.
 */
public final class OomWatcher implements AutoCloseable {

    /** A watch; {@link #close()} stops it and frees its file descriptors before returning. */
    public interface Handle extends AutoCloseable {
        /**
         * Reports, before returning, every OOM kill the kernel has counted so far and the watcher
         * has not yet reported. A caller about to publish an exit calls this so that the TaskOOM
         * of a kill goes out ahead of the TaskExit it caused, whichever the kernel told first.
         * Waits at most {@code limit} for the watcher thread.
         */
        void sync(Duration limit);

        @Override
        void close();
    }

    private static final Logger LOG = LoggerFactory.getLogger(OomWatcher.class);
    private static final long CONTROL_ID = 0;
    private static final int MAX_EVENTS = 64;
    /** First delay before re-reading oom_kill after a v1 notification; doubles each time. */
    private static final long FIRST_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final int RECHECKS = 8;

    private final LinuxNative.LibC libc = LinuxNative.libc();
    private final int epollFd;
    /** eventfd that wakes the watcher thread for queued work; written only under {@link #lifecycle}. */
    private final int controlFd;
    private final Thread thread;
    private final AtomicLong nextId = new AtomicLong(CONTROL_ID + 1);
    /** Live watches by epoll data id: put by watch() under {@link #lifecycle}, removed by release(). */
    private final Map<Long, Watch> watches = new ConcurrentHashMap<>();
    /** Work other threads hand to the watcher thread (releasing fds, first reads). */
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** v1 watches whose oom_kill counter is to be re-read soon; watcher thread only. */
    private final Set<V1Watch> rechecking = new HashSet<>();
    /** Buffers for reads on the watcher thread; watcher thread only. */
    private final MemorySegment events;
    private final MemorySegment readBuffer;

    /** Guards {@link #terminated} and the control fd against the watcher's final cleanup. */
    private final Object lifecycle = new Object();
    /** Set by the watcher thread when it stops taking watches; guarded by {@link #lifecycle}. */
    private boolean terminated;
    private volatile boolean closing;

    public OomWatcher() {
        epollFd = libc.epoll_create1(LinuxNative.EPOLL_CLOEXEC);
        if (epollFd < 0) {
            throw new UncheckedIOException(LinuxNative.failure("epoll_create1"));
        }
        controlFd = libc.eventfd(0, LinuxNative.EFD_CLOEXEC | LinuxNative.EFD_NONBLOCK);
        if (controlFd < 0) {
            IOException e = LinuxNative.failure("eventfd");
            libc.close(epollFd);
            throw new UncheckedIOException(e);
        }
        events = LinuxNative.allocate(LinuxNative.EPOLL_EVENT_SIZE * MAX_EVENTS);
        readBuffer = LinuxNative.allocate(4096);
        try {
            epollAdd(controlFd, CONTROL_ID);
        } catch (IOException e) {
            libc.close(controlFd);
            libc.close(epollFd);
            throw new UncheckedIOException(e);
        }
        thread = Thread.ofPlatform().name("jshim-oom").daemon(true).unstarted(this::run);
        thread.start();
    }

    /**
     * Calls {@code onOom} on the watcher thread (it must be quick) once per OOM kill in
     * {@code cgroup} from now on.
     *
     * @throws IOException when the cgroup has no memory controller or is gone, or the kernel
     *                     refuses the registration
     */
    public Handle watch(Cgroup cgroup, Runnable onOom) throws IOException {
        Watch w = switch (cgroup) {
            case CgroupV1 v1 -> V1Watch.open(this, v1, onOom);
            case CgroupV2 v2 -> V2Watch.open(this, v2, onOom);
        };
        synchronized (lifecycle) {
            if (terminated || closing) {
                libc.close(w.fd);
                throw new IOException("OomWatcher is closed");
            }
            watches.put(w.id, w); // before the fd is in the epoll set, so no event finds no watch
            try {
                epollAdd(w.fd, w.id);
            } catch (IOException e) {
                watches.remove(w.id);
                libc.close(w.fd);
                throw e;
            }
            // an OOM between the baseline read and the registration raised no event: look once
            tasks.add(() -> {
                if (!w.released.get()) {
                    w.evaluate(false);
                }
            });
            wakeLocked();
        }
        return w;
    }

    /** Stops the watcher thread and frees every file descriptor of every watch. */
    @Override
    public void close() {
        closing = true;
        synchronized (lifecycle) {
            if (!terminated) {
                wakeLocked();
            }
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Number of live watches (for tests and diagnostics). */
    public int size() {
        return watches.size();
    }

    // ---- watcher thread ----

    private void run() {
        try {
            while (!closing) {
                int n = libc.epoll_wait(epollFd, events, MAX_EVENTS, nextTimeoutMillis());
                if (n < 0) {
                    if (LinuxNative.errno() == EINTR) {
                        continue;
                    }
                    LOG.error("OOM watcher stops: {}", LinuxNative.failure("epoll_wait").getMessage());
                    break;
                }
                for (int i = 0; i < n; i++) {
                    long id = events.get(JAVA_LONG_UNALIGNED, (long) i * LinuxNative.EPOLL_EVENT_SIZE + LinuxNative.EPOLL_DATA_OFFSET);
                    if (id == CONTROL_ID) {
                        drain(controlFd);
                        continue;
                    }
                    Watch w = watches.get(id);
                    if (w != null && !w.released.get()) {
                        w.onReadable();
                    }
                }
                runTasks();
                runDueRechecks();
            }
        } catch (Throwable t) {
            LOG.error("OOM watcher thread failed", t);
        } finally {
            synchronized (lifecycle) {
                terminated = true;
            }
            runTasks();
            for (Watch w : List.copyOf(watches.values())) {
                release(w);
            }
            rechecking.clear();
            libc.close(controlFd);
            libc.close(epollFd);
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("OOM watcher task failed", e);
            }
        }
    }

    private int nextTimeoutMillis() {
        if (rechecking.isEmpty()) {
            return -1;
        }
        long soonest = Long.MAX_VALUE;
        for (V1Watch w : rechecking) {
            soonest = Math.min(soonest, w.recheckAt);
        }
        long waitNanos = soonest - System.nanoTime();
        return waitNanos <= 0 ? 0 : (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos + 999_999));
    }

    private void runDueRechecks() {
        if (rechecking.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        for (V1Watch w : new ArrayList<>(rechecking)) {
            if (w.recheckAt - now <= 0) {
                w.recheck();
            }
        }
    }

    /** Closes the watch's fd (which also drops it from the epoll set); idempotent. */
    private void release(Watch w) {
        if (w.released.compareAndSet(false, true)) {
            watches.remove(w.id);
            if (w instanceof V1Watch v1) {
                rechecking.remove(v1);
            }
            libc.close(w.fd);
        }
    }

    /** Releases a watch from any thread; returns once its fd is closed. */
    private void unwatch(Watch w) {
        if (w.released.get()) {
            return;
        }
        if (Thread.currentThread() == thread) {
            release(w);
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        boolean exiting;
        synchronized (lifecycle) {
            exiting = terminated;
            if (!exiting) {
                tasks.add(() -> {
                    release(w);
                    done.complete(null);
                });
                wakeLocked();
            }
        }
        if (exiting) {
            try {
                thread.join(); // the exiting watcher releases every watch itself
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        while (!done.isDone()) {
            try {
                done.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                if (!thread.isAlive()) {
                    break;
                }
                LOG.warn("OOM watcher thread is slow to release a watch (a slow onOom callback?)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException e) {
                break;
            }
        }
    }

    /** Runs {@code work} for a live watch on the watcher thread (which owns its state) and waits for it. */
    private void onWatcherThread(Watch w, Runnable work, Duration limit) {
        if (w.released.get()) {
            return;
        }
        if (Thread.currentThread() == thread) {
            work.run();
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (lifecycle) {
            if (terminated || closing) {
                return;
            }
            tasks.add(() -> {
                try {
                    if (!w.released.get()) {
                        work.run();
                    }
                } finally {
                    done.complete(null);
                }
            });
            wakeLocked();
        }
        try {
            done.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            LOG.warn("OOM watcher did not answer within {} for {}", limit, w.describe());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("OOM re-read failed for {}", w.describe(), e.getCause());
        }
    }

    // ---- native helpers ----

    private void epollAdd(int fd, long id) throws IOException {
        MemorySegment ev = LinuxNative.allocate(LinuxNative.EPOLL_EVENT_SIZE);
        ev.set(JAVA_INT, 0, LinuxNative.EPOLLIN | LinuxNative.EPOLLERR | LinuxNative.EPOLLHUP);
        ev.set(JAVA_LONG_UNALIGNED, LinuxNative.EPOLL_DATA_OFFSET, id);
        if (libc.epoll_ctl(epollFd, LinuxNative.EPOLL_CTL_ADD, fd, ev) < 0) {
            throw LinuxNative.failure("epoll_ctl");
        }
    }

    /** Caller holds {@link #lifecycle} and has checked the control fd is still open. */
    private void wakeLocked() {
        MemorySegment one = LinuxNative.allocate(8);
        one.set(JAVA_LONG, 0, 1L);
        libc.write(controlFd, one, 8);
    }

    /** Reads an eventfd's counter (0 if nothing was pending); watcher thread only. */
    private long readCounter(int fd) {
        long n = libc.read(fd, readBuffer, 8);
        return n == 8 ? readBuffer.get(JAVA_LONG, 0) : 0;
    }

    /** Reads until EAGAIN, discarding; watcher thread only. */
    private void drain(int fd) {
        while (true) {
            long n = libc.read(fd, readBuffer, 4096);
            if (n > 0) {
                continue;
            }
            if (n < 0 && LinuxNative.errno() == EINTR) {
                continue;
            }
            if (n < 0 && LinuxNative.errno() != EAGAIN) {
                LOG.debug("read: {}", LinuxNative.failure("read").getMessage());
            }
            return;
        }
    }

    private void report(Watch w, long times) {
        LOG.debug("OOM kill in {} (+{})", w.describe(), times);
        for (long i = 0; i < times && !w.released.get(); i++) {
            try {
                w.onOom.run();
            } catch (RuntimeException e) {
                LOG.warn("onOom callback failed for {}", w.describe(), e);
            }
        }
    }

    // ---- watches ----

    private abstract static sealed class Watch implements Handle permits V1Watch, V2Watch {
        final OomWatcher owner;
        final long id;
        final int fd;
        final Runnable onOom;
        /** Set once by release(); a released watch reports nothing more. */
        final AtomicBoolean released = new AtomicBoolean();
        /** Last oom_kill value seen: set before registration, then watcher thread only. */
        long lastKills;
        /**
         * {@link #lastKills} as of the last report that has returned (its onOom callbacks have run): written by the
         * watcher thread, read by {@link #sync} on callers' threads.
         */
        volatile long reportedKills;

        Watch(OomWatcher owner, int fd, long baseline, Runnable onOom) {
            this.owner = owner;
            this.id = owner.nextId.getAndIncrement();
            this.fd = fd;
            this.lastKills = baseline;
            this.reportedKills = baseline;
            this.onOom = onOom;
        }

        abstract void onReadable();

        /** Re-reads the counters and reports what is new; {@code notified}: the kernel said OOM. */
        abstract void evaluate(boolean notified);

        abstract String describe();

        /**
         * The kernel's oom_kill counter, read on the caller's thread; empty when it does not settle the question
         * (the file is gone, or there is no counter to trust), and {@link #sync} then asks the watcher thread.
         */
        abstract Optional<Long> killsNow() throws IOException;

        /**
         * Reports kills above the highest value seen; true if there were any. The kernel's counter
         * never decreases, so a lower value is a torn read and changes nothing.
         */
        boolean reportKills(long kills) {
            if (Long.compareUnsigned(kills, lastKills) > 0) {
                long delta = kills - lastKills;
                lastKills = kills;
                owner.report(this, delta);
                reportedKills = kills;
                return true;
            }
            return false;
        }

        @Override
        public void sync(Duration limit) {
            if (released.get()) {
                return;
            }
            // Every exit asks, and almost always the kernel has counted no kill that is not reported: answer that
            // here from the counter. The trip to the watcher thread and back costs ~1 ms on busy cores, on the path
            // of every TaskExit. A kill counted and not yet reported (or being reported) makes the values differ,
            // and then the watcher thread, which reports in order, answers once it has.
            try {
                Optional<Long> now = killsNow();
                if (now.isPresent() && now.get() == reportedKills) {
                    return;
                }
            } catch (IOException e) {
                // the watcher thread will find out what is wrong with the file
            }
            owner.onWatcherThread(this, () -> evaluate(false), limit);
        }

        @Override
        public void close() {
            owner.unwatch(this);
        }
    }

    /** cgroup v1: eventfd on memory.oom_control. */
    private static final class V1Watch extends Watch {
        final Path memoryDir;
        /** Re-read schedule after a notification; watcher thread only. */
        long recheckAt;
        long recheckDelay;
        int rechecksLeft;
        /** A notification not yet matched by a kill; watcher thread only. */
        boolean unresolved;

        private V1Watch(OomWatcher owner, int fd, long baseline, Runnable onOom, Path memoryDir) {
            super(owner, fd, baseline, onOom);
            this.memoryDir = memoryDir;
        }

        static V1Watch open(OomWatcher owner, CgroupV1 cgroup, Runnable onOom) throws IOException {
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
            return new V1Watch(owner, efd, baseline, onOom, dir);
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

    /** cgroup v2: inotify on memory.events and cgroup.events. */
    private static final class V2Watch extends Watch {
        final Path dir;

        private V2Watch(OomWatcher owner, int fd, long baseline, Runnable onOom, Path dir) {
            super(owner, fd, baseline, onOom);
            this.dir = dir;
        }

        static V2Watch open(OomWatcher owner, CgroupV2 cgroup, Runnable onOom) throws IOException {
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
            return new V2Watch(owner, ifd, baseline, onOom, dir);
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
            // includes every kill. The other order loses a kill that lands between the reads (seen under qemu TCG).
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
}
