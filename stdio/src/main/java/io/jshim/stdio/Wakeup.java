package io.jshim.stdio;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A one-shot latch that wakes every thread parked in poll: an eventfd that stays readable once
 * signalled (nobody ever reads it). Copiers poll it beside their data fd, so stopping them never
 * needs to close an fd another thread is blocked on.
 */
final class Wakeup implements AutoCloseable {
    private final Fd fd;
    /** Mirrors the eventfd so a copier can check without a system call. */
    private volatile boolean signalled;

    private Wakeup(Fd fd) {
        this.fd = fd;
    }

    static Wakeup create(String name) throws ErrnoException {
        return new Wakeup(new Fd(StdioNative.eventfd(), name));
    }

    int fd() {
        return fd.get();
    }

    boolean isSignalled() {
        return signalled;
    }

    void signal() {
        if (signalled) {
            return;
        }
        signalled = true;
        int f = fd.get();
        if (f >= 0) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment one = arena.allocate(JAVA_LONG);
                one.set(JAVA_LONG, 0, 1L);
                StdioNative.write(f, one, 8);
            }
        }
    }

    /** Only once no thread can still poll it. */
    @Override
    public void close() {
        fd.close();
    }
}
