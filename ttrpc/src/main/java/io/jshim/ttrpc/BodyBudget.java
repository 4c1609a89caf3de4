package io.jshim.ttrpc;

/**
 * Bytes of large frame bodies a server holds at once, over all its connections. A connection whose next body
 * does not fit stops reading (its reader thread waits here) until another body is done, so eight peers sending
 * 4 MiB frames cost the shim at most the budget, not 32 MiB (plus the garbage of copying them). One body always
 * fits when none is held, so a single frame up to the 4 MiB limit always gets through. Small bodies never ask.
 */
final class BodyBudget {
    /** Bodies up to this size are read without asking: Task requests are a few KiB. */
    static final int SMALL = 64 * 1024;

    /** Asked by a waiting reader each time it wakes: true once its connection is closing, to stop waiting. */
    @FunctionalInterface
    interface Abandon {
        boolean now();
    }

    private final long capacity;
    /** Bytes held; guarded by this (waiters wait on this monitor). */
    private long used;

    BodyBudget(long capacity) {
        this.capacity = capacity;
    }

    /** Unlimited (a client reads what its own server sends). */
    static BodyBudget unlimited() {
        return new BodyBudget(Long.MAX_VALUE);
    }

    /**
     * Takes {@code n} bytes, waiting until they fit (or nothing is held). False, with nothing taken, when
     * {@code abandon} says so before that (checked at each {@link #wakeAll}).
     */
    synchronized boolean acquire(long n, Abandon abandon) {
        while (used != 0 && used + n > capacity) {
            if (abandon.now()) {
                return false;
            }
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        used += n;
        return true;
    }

    synchronized void release(long n) {
        used -= n;
        notifyAll(); // each waiter retries; those that still do not fit wait again
    }

    /** Wakes every waiter to ask its {@link Abandon} again (a connection is closing). */
    synchronized void wakeAll() {
        notifyAll();
    }

    synchronized long used() {
        return used;
    }
}
