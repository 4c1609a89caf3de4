package io.jshim.cgroups;

import static io.jshim.cgroups.LinuxNative.EAGAIN;
import static io.jshim.cgroups.LinuxNative.EINTR;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

    static final Logger LOG = LoggerFactory.getLogger(OomWatcher.class);
    private static final long CONTROL_ID = 0;
    private static final int MAX_EVENTS = 64;

    final LinuxNative.LibC libc = LinuxNative.libc();
    private final int epollFd;
    /** eventfd that wakes the watcher thread for queued work; written only under {@link #lifecycle}. */
    private final int controlFd;
    private final Thread thread;
    final AtomicLong nextId = new AtomicLong(CONTROL_ID + 1);
    /** Live watches by epoll data id: put by watch() under {@link #lifecycle}, removed by release(). */
    private final Map<Long, OomWatch> watches = new ConcurrentHashMap<>();
    /** Work other threads hand to the watcher thread (releasing fds, first reads). */
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** v1 watches whose oom_kill counter is to be re-read soon; watcher thread only. */
    final Set<V1OomWatch> rechecking = new HashSet<>();
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
        OomWatch w = switch (cgroup) {
            case CgroupV1 v1 -> V1OomWatch.open(this, v1, onOom);
            case CgroupV2 v2 -> V2OomWatch.open(this, v2, onOom);
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
                    OomWatch w = watches.get(id);
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
            for (OomWatch w : List.copyOf(watches.values())) {
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
        for (V1OomWatch w : rechecking) {
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
        for (V1OomWatch w : new ArrayList<>(rechecking)) {
            if (w.recheckAt - now <= 0) {
                w.recheck();
            }
        }
    }

    /** Closes the watch's fd (which also drops it from the epoll set); idempotent. */
    void release(OomWatch w) {
        if (w.released.compareAndSet(false, true)) {
            watches.remove(w.id);
            if (w instanceof V1OomWatch v1) {
                rechecking.remove(v1);
            }
            libc.close(w.fd);
        }
    }

    /** Releases a watch from any thread; returns once its fd is closed. */
    void unwatch(OomWatch w) {
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
    void onWatcherThread(OomWatch w, Runnable work, Duration limit) {
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
    long readCounter(int fd) {
        long n = libc.read(fd, readBuffer, 8);
        return n == 8 ? readBuffer.get(JAVA_LONG, 0) : 0;
    }

    /** Reads until EAGAIN, discarding; watcher thread only. */
    void drain(int fd) {
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

    void report(OomWatch w, long times) {
        LOG.debug("OOM kill in {} (+{})", w.describe(), times);
        for (long i = 0; i < times && !w.released.get(); i++) {
            try {
                w.onOom.run();
            } catch (RuntimeException e) {
                LOG.warn("onOom callback failed for {}", w.describe(), e);
            }
        }
    }

}
