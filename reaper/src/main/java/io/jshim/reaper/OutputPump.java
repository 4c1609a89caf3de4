package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Moves one command's stdin, stdout and stderr with a single poll(2) loop on non-blocking pipes,
 * so a child that fills one pipe while we wait on another cannot deadlock. Runs on one platform
 * thread ({@link #run}); {@link #stop} makes it finish early from any thread.
 *
 * <p>The pump owns its fds and closes them itself when it finishes, so no fd is closed while the
 * loop might still poll it (and might then poll an unrelated fd that reused the number).
 */
final class OutputPump {
    private static final short POLLIN = 0x1;
    private static final short POLLOUT = 0x4;
    private static final int POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }
    private static final int CHUNK = 64 * 1024;

    private final int stdoutFd;
    private final int stderrFd;
    private final byte[] stdin;
    /** Our read end and write end of the wake-up pipe. */
    private final int wakeRead;
    private final int wakeWrite;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    /** Guarded by {@code this}: set when the loop has closed its fds; stop() then writes nothing. */
    private boolean closed;
    /** Guarded by {@code this}. */
    private boolean stopRequested;

    /** Used only by the pump thread. */
    private int stdinFd;
    private int stdinWritten;

    /**
     * @param stdoutFd read end of the child's stdout pipe, or -1
     * @param stderrFd read end of the child's stderr pipe, or -1
     * @param stdinFd  write end of the child's stdin pipe, or -1
     * @param stdin    bytes to feed to {@code stdinFd}
     */
    OutputPump(int stdoutFd, int stderrFd, int stdinFd, byte[] stdin) throws IOException {
        this.stdoutFd = stdoutFd;
        this.stderrFd = stderrFd;
        this.stdinFd = stdinFd;
        this.stdin = stdin == null ? new byte[0] : stdin;
        int[] wake = Posix.pipe();
        wakeRead = wake[0];
        wakeWrite = wake[1];
        try {
            for (int fd : new int[] {stdoutFd, stderrFd, stdinFd, wakeWrite}) {
                if (fd >= 0) {
                    Posix.setNonBlocking(fd, true);
                }
            }
        } catch (IOException e) {
            Posix.close(wakeRead); // the other fds still belong to the caller
            Posix.close(wakeWrite);
            throw e;
        }
    }

    /** The loop: returns when stdout and stderr reached EOF and stdin is fed, or when stopped. */
    void run() throws IOException {
        int out = stdoutFd;
        int err = stderrFd;
        byte[] buf = new byte[CHUNK];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(4 * POLLFD_SIZE, 4);
            if (stdinFd >= 0 && stdin.length == 0) {
                stdinFd = closeFd(stdinFd);
            }
            while (out >= 0 || err >= 0 || stdinFd >= 0) {
                int n = 0;
                n = add(fds, n, wakeRead, POLLIN);
                int outSlot = out >= 0 ? n : -1;
                n = add(fds, n, out, POLLIN);
                int errSlot = err >= 0 ? n : -1;
                n = add(fds, n, err, POLLIN);
                int inSlot = stdinFd >= 0 ? n : -1;
                n = add(fds, n, stdinFd, POLLOUT);
                int ready = Native.poll(fds, n, -1);
                if (ready < 0) {
                    int errno = -ready;
                    if (errno == Native.EINTR) {
                        continue;
                    }
                    throw Native.failure("poll", errno);
                }
                if (revents(fds, 0) != 0) {
                    return; // stop()
                }
                if (outSlot >= 0 && revents(fds, outSlot) != 0 && drain(out, stdout, buf)) {
                    out = closeFd(out);
                }
                if (errSlot >= 0 && revents(fds, errSlot) != 0 && drain(err, stderr, buf)) {
                    err = closeFd(err);
                }
                if (inSlot >= 0 && revents(fds, inSlot) != 0 && feed()) {
                    stdinFd = closeFd(stdinFd);
                }
            }
        } finally {
            synchronized (this) {
                closed = true;
                Posix.close(out);
                Posix.close(err);
                Posix.close(stdinFd);
                Posix.close(wakeRead);
                Posix.close(wakeWrite);
            }
        }
    }

    /** Makes {@link #run} return soon; safe from any thread, at any time, any number of times. */
    synchronized void stop() {
        if (closed || stopRequested) {
            return;
        }
        stopRequested = true;
        try {
            Posix.write(wakeWrite, new byte[1], 0, 1);
        } catch (IOException e) {
            throw new IllegalStateException("cannot wake the output pump", e);
        }
    }

    /** Only after {@link #run} has returned. */
    byte[] stdout() {
        return stdout.toByteArray();
    }

    /** Only after {@link #run} has returned. */
    byte[] stderr() {
        return stderr.toByteArray();
    }

    /** For a pump that will never run: closes every fd it was given. */
    synchronized void closeAll() {
        closed = true;
        Posix.close(stdoutFd);
        Posix.close(stderrFd);
        Posix.close(stdinFd);
        Posix.close(wakeRead);
        Posix.close(wakeWrite);
    }

    /** Reads what is available; true at EOF (or when the pipe is unusable). */
    private static boolean drain(int fd, ByteArrayOutputStream sink, byte[] buf) throws IOException {
        while (true) {
            int n;
            try {
                n = Posix.read(fd, buf, 0, buf.length);
            } catch (PosixException e) {
                if (e.errno() == Native.EAGAIN) {
                    return false;
                }
                throw e;
            }
            if (n < 0) {
                return true;
            }
            sink.write(buf, 0, n);
        }
    }

    /** Writes what fits; true when all is written or the child closed its end (EPIPE). */
    private boolean feed() throws IOException {
        while (stdinWritten < stdin.length) {
            try {
                stdinWritten += Posix.write(stdinFd, stdin, stdinWritten, Math.min(CHUNK, stdin.length - stdinWritten));
            } catch (PosixException e) {
                if (e.errno() == Native.EAGAIN) {
                    return false;
                }
                if (e.errno() == Native.EPIPE) {
                    return true;
                }
                throw e;
            }
        }
        return true;
    }

    private static int add(MemorySegment fds, int n, int fd, short events) {
        if (fd < 0) {
            return n;
        }
        fds.set(JAVA_INT, (long) n * POLLFD_SIZE, fd);
        fds.set(JAVA_SHORT, (long) n * POLLFD_SIZE + 4, events);
        fds.set(JAVA_SHORT, (long) n * POLLFD_SIZE + 6, (short) 0);
        return n + 1;
    }

    private static short revents(MemorySegment fds, int slot) {
        return fds.get(JAVA_SHORT, (long) slot * POLLFD_SIZE + 6);
    }

    private static int closeFd(int fd) {
        Posix.close(fd);
        return -1;
    }
}
