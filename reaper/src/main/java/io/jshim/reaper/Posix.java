package io.jshim.reaper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

import jnr.constants.platform.Errno;
import jnr.ffi.Pointer;

/**
 * Thin native helpers (glibc through jnr-ffi) for the modules that handle fds, fifos, ptys and
 * signals. Every failing call throws {@link PosixException} carrying errno, its text and name;
 * {@code kill} on a missing process throws {@link NoSuchProcessException}. Calls interrupted by a
 * signal (EINTR) are retried.
 *
 * <p>Blocking calls ({@link #read}, {@link #write}, opening a fifo) block the OS thread: on a
 * virtual thread they pin its carrier, so make them from platform threads.
 */
public final class Posix {
    // open(2) flags, Linux x86-64 / aarch64
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_CLOEXEC = 02000000;

    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGPIPE = 13;
    public static final int SIGTERM = 15;
    public static final int SIGCHLD = 17;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    public static final int SIGWINCH = 28;

    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final long TIOCGWINSZ = 0x5413;
    private static final long TIOCSWINSZ = 0x5414;
    private static final int PR_SET_CHILD_SUBREAPER = 36;
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private Posix() {
    }

    public static int getpid() {
        return Native.C.getpid();
    }

    public static int geteuid() {
        return Native.C.geteuid();
    }

    public static int getegid() {
        return Native.C.getegid();
    }

    /** open(2); {@code mode} matters only with O_CREAT. Returns the new fd. */
    public static int open(String path, int flags, int mode) throws IOException {
        Objects.requireNonNull(path, "path");
        while (true) {
            int fd = Native.C.open(path, flags, mode);
            if (fd >= 0) {
                return fd;
            }
            int errno = Native.errno();
            if (errno != Native.EINTR) {
                throw Native.failure("open " + path, errno);
            }
        }
    }

    /** close(2); EBADF (already closed) is ignored, so is EINTR (Linux has released the fd anyway). */
    public static void close(int fd) {
        if (fd < 0) {
            return;
        }
        Native.C.close(fd);
    }

    /** pipe2(O_CLOEXEC): {read end, write end}; children get them only through {@link SpawnSpec#withFd}. */
    public static int[] pipe() throws IOException {
        int[] fds = new int[2];
        if (Native.C.pipe2(fds, O_CLOEXEC) != 0) {
            throw Native.lastFailure("pipe2");
        }
        return fds;
    }

    public static void fchown(int fd, int uid, int gid) throws IOException {
        if (Native.C.fchown(fd, uid, gid) != 0) {
            throw Native.lastFailure("fchown fd " + fd + " to " + uid + ":" + gid);
        }
    }

    /**
     * kill(2). A negative pid signals a process group. Note that a bare pid may have been reaped and
     * reused: to signal a child of ours safely use {@link Child#kill(int)}.
     *
     * @throws NoSuchProcessException ESRCH
     */
    public static void kill(int pid, int signal) throws IOException {
        if (Native.C.kill(pid, signal) != 0) {
            throw Native.lastFailure("kill " + pid + " signal " + signal);
        }
    }

    public static void mkfifo(String path, int mode) throws IOException {
        if (Native.C.mkfifo(path, mode) != 0) {
            throw Native.lastFailure("mkfifo " + path);
        }
    }

    /**
     * read(2) into {@code buf[off, off+len)}: the number of bytes read, or -1 at end of file.
     * Blocks unless the fd is non-blocking, in which case EAGAIN is thrown as a PosixException.
     */
    public static int read(int fd, byte[] buf, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, buf.length);
        if (len == 0) {
            return 0;
        }
        while (true) {
            long n = Native.C.read(fd, ByteBuffer.wrap(buf, off, len), len);
            if (n > 0) {
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            int errno = Native.errno();
            if (errno != Native.EINTR) {
                throw Native.failure("read fd " + fd, errno);
            }
        }
    }

    /** write(2) from {@code buf[off, off+len)}: the number of bytes written (may be fewer than len). */
    public static int write(int fd, byte[] buf, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, buf.length);
        while (true) {
            long n = Native.C.write(fd, ByteBuffer.wrap(buf, off, len), len);
            if (n >= 0) {
                return (int) n;
            }
            int errno = Native.errno();
            if (errno != Native.EINTR) {
                throw Native.failure("write fd " + fd, errno);
            }
        }
    }

    /** Sets or clears O_NONBLOCK on the open file description of {@code fd}. */
    public static void setNonBlocking(int fd, boolean on) throws IOException {
        int flags = Native.C.fcntl(fd, F_GETFL, 0);
        if (flags < 0) {
            throw Native.lastFailure("fcntl F_GETFL fd " + fd);
        }
        int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags && Native.C.fcntl(fd, F_SETFL, wanted) != 0) {
            throw Native.lastFailure("fcntl F_SETFL fd " + fd);
        }
    }

    /** ioctl TIOCSWINSZ on a terminal fd (a pty master, for a container's console). */
    public static void setWinsize(int fd, int rows, int cols) throws IOException {
        Pointer winsize = Native.allocate(8); // struct winsize { ushort row, col, xpixel, ypixel }
        winsize.putShort(0, (short) rows);
        winsize.putShort(2, (short) cols);
        if (Native.C.ioctl(fd, TIOCSWINSZ, winsize) != 0) {
            throw Native.lastFailure("ioctl TIOCSWINSZ fd " + fd);
        }
    }

    /** ioctl TIOCGWINSZ: {rows, cols}. */
    public static int[] getWinsize(int fd) throws IOException {
        Pointer winsize = Native.allocate(8);
        if (Native.C.ioctl(fd, TIOCGWINSZ, winsize) != 0) {
            throw Native.lastFailure("ioctl TIOCGWINSZ fd " + fd);
        }
        return new int[] {Short.toUnsignedInt(winsize.getShort(0)), Short.toUnsignedInt(winsize.getShort(2))};
    }

    /** prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process. */
    public static void prctlSubreaper() throws IOException {
        if (Native.C.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            throw Native.lastFailure("prctl PR_SET_CHILD_SUBREAPER");
        }
    }

    /** Whether {@code path} (symlinks followed) is a fifo; false when it does not exist. */
    public static boolean isFifo(String path) {
        try {
            int mode = (Integer) Files.getAttribute(Path.of(path), "unix:mode");
            return (mode & S_IFMT) == S_IFIFO;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** strerror(3): "No such file or directory" for ENOENT. */
    public static String strerror(int errno) {
        String text = Native.C.strerror(errno);
        return text == null ? "errno " + errno : text;
    }

    /** "ENOENT" for 2; "errno N" for values without a name. */
    public static String errnoName(int errno) {
        Errno e = Errno.valueOf(errno);
        return e == null || e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    }
}
