package io.jshim.stdio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Waits, in one thread, for a data fd to become ready or for a wakeup. Owned by a single copier
 * thread (its pollfd array is confined to it).
 */
final class Poller implements AutoCloseable {
    enum Ready { READY, STOP, DRAIN, TIMEOUT }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment fds = arena.allocate(StdioNative.POLLFD_SIZE * 3);
    private final Wakeup stop;
    private final Wakeup drain;

    /**
     * @param stop  hard stop: the copier must return at once
     * @param drain soft stop (may be null): copy what is readable now, then return
     */
    Poller(Wakeup stop, Wakeup drain) {
        this.stop = stop;
        this.drain = drain;
    }

    boolean stopRequested() {
        return stop.isSignalled();
    }

    /**
     * Waits for {@code events} on fd.
     *
     * @param watchDrain whether the soft stop interrupts this wait (reads: yes; writes: no, a
     *                   started chunk is finished)
     * @param timeoutMillis -1 for no timeout
     */
    Ready await(int fd, short events, boolean watchDrain, int timeoutMillis) {
        if (stop.isSignalled()) {
            return Ready.STOP;
        }
        boolean withDrain = watchDrain && drain != null;
        if (withDrain && drain.isSignalled()) {
            return Ready.DRAIN;
        }
        StdioNative.setPollFd(fds, 0, fd, events);
        StdioNative.setPollFd(fds, 1, stop.fd(), StdioNative.POLLIN);
        int count = 2;
        if (withDrain) {
            StdioNative.setPollFd(fds, 2, drain.fd(), StdioNative.POLLIN);
            count = 3;
        }
        int n = StdioNative.poll(fds, count, timeoutMillis);
        if (n == 0) {
            return Ready.TIMEOUT;
        }
        if (n < 0) {
            // EINTR: let the caller retry its operation, which re-enters the wait if needed.
            return Ready.READY;
        }
        if (StdioNative.revents(fds, 1) != 0 || stop.isSignalled()) {
            return Ready.STOP;
        }
        if (withDrain && StdioNative.revents(fds, 2) != 0) {
            return Ready.DRAIN;
        }
        // POLLIN/POLLOUT, and also POLLHUP/POLLERR/POLLNVAL: the next read or write reports them.
        return Ready.READY;
    }

    @Override
    public void close() {
        arena.close();
    }
}
