package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Thin native helpers (glibc through the FFM API, see {@link Native}) for the modules that handle fds, fifos, ptys and
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
    public static final int O_DIRECTORY = Arch.O_DIRECTORY;
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
    private static final int WINSIZE_SIZE = 8; // struct winsize { ushort row, col, xpixel, ypixel }

    /**
     * Linux errno names by value (x86-64 and aarch64 share them), spelt as jnr-constants spells them
     * (EDEADLOCK for 35, ENOTSUP for 95); null where Linux has only an alias (41, 58).
     */
    private static final String[] ERRNO_NAMES = {null,
        "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLOCK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
        null, "ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT", "EL3RST", "ELNRNG", "EUNATCH", "ENOCSI",
        "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO", "EBADRQC", "EBADSLT", null, "EBFONT", "ENOSTR",
        "ENODATA", "ETIME", "ENOSR", "ENONET", "ENOPKG", "EREMOTE", "ENOLINK", "EADV", "ESRMNT", "ECOMM",
        "EPROTO", "EMULTIHOP", "EDOTDOT", "EBADMSG", "EOVERFLOW", "ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC", "ELIBBAD",
        "ELIBSCN", "ELIBMAX", "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS", "ENOTSOCK", "EDESTADDRREQ",
        "EMSGSIZE", "EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "ENOTSUP", "EPFNOSUPPORT",
        "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN", "ENETUNREACH", "ENETRESET", "ECONNABORTED",
        "ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ESHUTDOWN", "ETOOMANYREFS", "ETIMEDOUT", "ECONNREFUSED",
        "EHOSTDOWN", "EHOSTUNREACH", "EALREADY", "EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL", "EISNAM",
        "EREMOTEIO", "EDQUOT", "ENOMEDIUM", "EMEDIUMTYPE", "ECANCELED", "ENOKEY", "EKEYEXPIRED", "EKEYREVOKED",
        "EKEYREJECTED", "EOWNERDEAD", "ENOTRECOVERABLE", "ERFKILL", "EHWPOISON"};

    private Posix() {
    }

    /** Our pid, from the JDK: no native call to link for it on the daemon's boot path. */
    public static int getpid() {
        return (int) ProcessHandle.current().pid();
    }

    public static int geteuid() {
        return Native.geteuid();
    }

    public static int getegid() {
        return Native.getegid();
    }

    /** open(2); {@code mode} matters only with O_CREAT. Returns the new fd. */
    public static int open(String path, int flags, int mode) throws IOException {
        Objects.requireNonNull(path, "path");
        while (true) {
            int fd = Native.open(path, flags, mode);
            if (fd >= 0) {
                return fd;
            }
            int errno = -fd;
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
        Native.close(fd);
    }

    /** pipe2(O_CLOEXEC): {read end, write end}; children get them only through {@link SpawnSpec#withFd}. */
    public static int[] pipe() throws IOException {
        int[] fds = new int[2];
        int r = Native.pipe2(fds, O_CLOEXEC);
        if (r != 0) {
            throw Native.failure("pipe2", -r);
        }
        return fds;
    }

    public static void fchown(int fd, int uid, int gid) throws IOException {
        int r = Native.fchown(fd, uid, gid);
        if (r != 0) {
            throw Native.failure("fchown fd " + fd + " to " + uid + ":" + gid, -r);
        }
    }

    /**
     * kill(2). A negative pid signals a process group. Note that a bare pid may have been reaped and
     * reused: to signal a child of ours safely use {@link Child#kill(int)}.
     *
     * @throws NoSuchProcessException ESRCH
     */
    public static void kill(int pid, int signal) throws IOException {
        int r = Native.kill(pid, signal);
        if (r != 0) {
            throw Native.failure("kill " + pid + " signal " + signal, -r);
        }
    }

    public static void mkfifo(String path, int mode) throws IOException {
        int r = Native.mkfifo(path, mode);
        if (r != 0) {
            throw Native.failure("mkfifo " + path, -r);
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
            long n = Native.read(fd, buf, off, len);
            if (n > 0) {
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            int errno = (int) -n;
            if (errno != Native.EINTR) {
                throw Native.failure("read fd " + fd, errno);
            }
        }
    }

    /** write(2) from {@code buf[off, off+len)}: the number of bytes written (may be fewer than len). */
    public static int write(int fd, byte[] buf, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, buf.length);
        while (true) {
            long n = Native.write(fd, buf, off, len);
            if (n >= 0) {
                return (int) n;
            }
            int errno = (int) -n;
            if (errno != Native.EINTR) {
                throw Native.failure("write fd " + fd, errno);
            }
        }
    }

    /** Sets or clears O_NONBLOCK on the open file description of {@code fd}. */
    public static void setNonBlocking(int fd, boolean on) throws IOException {
        int flags = Native.fcntl(fd, F_GETFL, 0);
        if (flags < 0) {
            throw Native.failure("fcntl F_GETFL fd " + fd, -flags);
        }
        int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        int r = wanted == flags ? 0 : Native.fcntl(fd, F_SETFL, wanted);
        if (r != 0) {
            throw Native.failure("fcntl F_SETFL fd " + fd, -r);
        }
    }

    /** ioctl TIOCSWINSZ on a terminal fd (a pty master, for a container's console). */
    public static void setWinsize(int fd, int rows, int cols) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment winsize = arena.allocate(WINSIZE_SIZE);
            winsize.set(JAVA_SHORT, 0, (short) rows);
            winsize.set(JAVA_SHORT, 2, (short) cols);
            int r = Native.ioctl(fd, TIOCSWINSZ, winsize);
            if (r != 0) {
                throw Native.failure("ioctl TIOCSWINSZ fd " + fd, -r);
            }
        }
    }

    /** ioctl TIOCGWINSZ: {rows, cols}. */
    public static int[] getWinsize(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment winsize = arena.allocate(WINSIZE_SIZE);
            int r = Native.ioctl(fd, TIOCGWINSZ, winsize);
            if (r != 0) {
                throw Native.failure("ioctl TIOCGWINSZ fd " + fd, -r);
            }
            return new int[] {Short.toUnsignedInt(winsize.get(JAVA_SHORT, 0)),
                    Short.toUnsignedInt(winsize.get(JAVA_SHORT, 2))};
        }
    }

    /** prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process. */
    public static void prctlSubreaper() throws IOException {
        int r = Native.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if (r != 0) {
            throw Native.failure("prctl PR_SET_CHILD_SUBREAPER", -r);
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
        String text = Native.strerror(errno);
        return text == null ? "errno " + errno : text;
    }

    /** "ENOENT" for 2; "errno N" for values without a name. */
    public static String errnoName(int errno) {
        String name = errno > 0 && errno < ERRNO_NAMES.length ? ERRNO_NAMES[errno] : null;
        return name == null ? "errno " + errno : name;
    }
}
