package io.jshim.reaper;

import java.io.IOException;

/**
 * A process file descriptor (pidfd_open(2), Linux 5.3): it names one process, not a number, so a signal sent
 * through it can never reach another process that was given the same pid after this one was reaped; once the
 * process has exited, {@link #signal} says so instead.
 *
 * <p>Its monitor guards the fd, so that {@link #close} never frees the number while a signal is on its way
 * through it (the fd could otherwise be reused by another open and get the signal's system call).
 */
public final class Pidfd implements AutoCloseable {
    private static final int ENOSYS = 38;
    /** Set once pidfd_open said ENOSYS (a kernel before 5.3, or a seccomp filter): no pidfds in this process. */
    private static volatile boolean unsupported;

    private final int pid;
    /** Guarded by {@code this}; -1 once closed. */
    private int fd;

    private Pidfd(int pid, int fd) {
        this.pid = pid;
        this.fd = fd;
    }

    /**
     * A pidfd for {@code pid}, or null where the kernel has none (the caller then signals by pid, as the reference
     * shims do).
     *
     * @throws NoSuchProcessException no process has that pid (it has exited and been reaped)
     */
    public static Pidfd open(int pid) throws IOException {
        if (unsupported || pid <= 0) {
            return null;
        }
        int fd = Native.pidfdOpen(pid);
        if (fd >= 0) {
            return new Pidfd(pid, fd);
        }
        if (-fd == ENOSYS) {
            unsupported = true;
            return null;
        }
        throw Native.failure("pidfd_open " + pid, -fd);
    }

    public int pid() {
        return pid;
    }

    /**
     * Sends {@code signal} to the process; false once it has been reaped (the kernel answers ESRCH) or this pidfd
     * is closed.
     */
    public synchronized boolean signal(int signal) throws IOException {
        if (fd < 0) {
            return false;
        }
        int r = Native.pidfdSendSignal(fd, signal);
        if (r == 0) {
            return true;
        }
        if (-r == Native.ESRCH) {
            return false;
        }
        throw Native.failure("pidfd_send_signal " + pid + " signal " + signal, -r);
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            Posix.close(fd);
            fd = -1;
        }
    }

    @Override
    public synchronized String toString() {
        return "Pidfd[pid " + pid + (fd < 0 ? ", closed]" : ", fd " + fd + "]");
    }
}
