package io.jshim.cgroups;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One cgroup watched for OOM kills by an {@link OomWatcher}: its file descriptor in the watcher's epoll set, the
 * kill count it has reported, and {@link #sync}. Its state is the watcher thread's, except where a field says so.
 */
abstract sealed class OomWatch implements OomWatcher.Handle permits V1OomWatch, V2OomWatch {
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

    OomWatch(OomWatcher owner, int fd, long baseline, Runnable onOom) {
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
        // here from the counter: the trip to the watcher thread and back is two thread hand-offs on the path of
        // every TaskExit (docs/performance.md). A kill counted and not yet reported (or being reported) makes the values differ,
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

