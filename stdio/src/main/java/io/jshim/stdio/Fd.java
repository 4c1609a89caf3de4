package io.jshim.stdio;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An owned file descriptor that is closed exactly once, whoever calls {@link #close()} and how
 * often: closing a number twice could close an unrelated fd that reused it.
 */
final class Fd implements AutoCloseable {
    private final AtomicInteger fd;
    private final String name;

    Fd(int fd, String name) {
        if (fd < 0) {
            throw new IllegalArgumentException("invalid fd " + fd + " for " + name);
        }
        this.fd = new AtomicInteger(fd);
        this.name = name;
    }

    /** The fd number, or -1 once closed. */
    int get() {
        return fd.get();
    }

    boolean isOpen() {
        return fd.get() >= 0;
    }

    String name() {
        return name;
    }

    @Override
    public void close() {
        StdioNative.close(fd.getAndSet(-1));
    }

    @Override
    public String toString() {
        return name + "(fd " + fd.get() + ")";
    }
}
