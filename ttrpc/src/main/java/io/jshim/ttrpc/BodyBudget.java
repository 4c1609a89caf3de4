package io.jshim.ttrpc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * Bytes of large frame bodies a server holds at once, over all its connections. A connection whose next body
 * does not fit stops reading until another body is done, so eight peers sending 4 MiB frames cost the shim at most
 * the budget, not 32 MiB (plus the garbage of copying them). One body always fits when none is held, so a single
 * frame up to the 4 MiB limit always gets through. Small bodies never ask.
 */
final class BodyBudget {
    /** Bodies up to this size are read without asking: Task requests are a few KiB. */
    static final int SMALL = 64 * 1024;

    private final long capacity;
    /** Guarded by this. */
    private long used;
    /** Connections waiting for room, woken in order on release. Guarded by this. */
    private final Queue<Runnable> waiters = new ArrayDeque<>();

    BodyBudget(long capacity) {
        this.capacity = capacity;
    }

    /** Unlimited (a client reads what its own server sends). */
    static BodyBudget unlimited() {
        return new BodyBudget(Long.MAX_VALUE);
    }

    /** Takes {@code n} bytes if they fit (or nothing is held); else queues {@code onRoom} and returns false. */
    synchronized boolean tryAcquire(long n, Runnable onRoom) {
        if (used == 0 || used + n <= capacity) {
            used += n;
            return true;
        }
        waiters.add(onRoom);
        return false;
    }

    void release(long n) {
        List<Runnable> wake;
        synchronized (this) {
            used -= n;
            wake = new ArrayList<>(waiters);
            waiters.clear();
        }
        // Each retries; those that still do not fit queue again.
        wake.forEach(Runnable::run);
    }

    synchronized long used() {
        return used;
    }
}
