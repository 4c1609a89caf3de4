package io.jshim.stdio;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The pty master runc passed over the console socket. Read by the output copier and written by
 * the stdin copier without locking (both end before it closes); {@link #resize} and
 * {@link #close} share a lock so an ioctl never hits a closed, possibly reused fd number.
 */
final class Console implements AutoCloseable {
    private final Fd master;
    /** Guards the open/closed transition of master against resize. Held only for an ioctl or a close. */
    private final ReentrantLock lock = new ReentrantLock();

    Console(Fd master) throws ErrnoException {
        StdioNative.setCloseOnExec(master.get());
        StdioNative.setNonBlocking(master.get(), true);
        this.master = master;
    }

    Fd master() {
        return master;
    }

    /** TIOCSWINSZ; a closed console (process gone or stdin hung up) ignores it. */
    void resize(int rows, int cols) throws ErrnoException {
        lock.lock();
        try {
            if (master.isOpen()) {
                StdioNative.setWinsize(master.get(), rows, cols);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closing the master hangs up the terminal: the session gets SIGHUP. */
    @Override
    public void close() {
        lock.lock();
        try {
            master.close();
        } finally {
            lock.unlock();
        }
    }
}
