package io.jshim.stdio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jshim.reaper.LibcCall;
import io.jshim.reaper.NativeMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * The few libc calls the copiers need, through {@link LibcCall} so that every call reports its
 * errno exactly (EAGAIN, EPIPE, ENOSPC, EIO decide what a copier does next).
 *
 * <p>Hot-path calls ({@link #read}, {@link #write}, {@link #poll}) return {@code -errno} instead
 * of throwing, so a full pipe costs no exception. The others throw {@link ErrnoException}.
 * All fds this module opens carry O_CLOEXEC: a pipe end leaked into another child (runc, a
 * logger) would hold a stream open and delay its EOF until that child exits.
 */
final class StdioNative {
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_NOCTTY = 0400;
    static final int O_TRUNC = 01000;
    static final int O_APPEND = 02000;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;

    static final int EINTR = 4;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int ENOSPC = 28;
    static final int EPIPE = 32;

    static final short POLLIN = 0x1;
    static final short POLLOUT = 0x4;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;

    static final int SIGKILL = 9;
    static final int SIGTERM = 15;

    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int FD_CLOEXEC = 1;
    private static final int EFD_NONBLOCK = 04000;
    private static final int EFD_CLOEXEC = 02000000;

    static final long TIOCGWINSZ = 0x5413;
    static final long TIOCSWINSZ = 0x5414;
    static final long TIOCGPTN = 0x80045430L;
    static final long TIOCSPTLCK = 0x40045431L;

    /** struct pollfd { int fd; short events; short revents; } */
    static final long POLLFD_SIZE = 8;

    // every call goes through LibcCall's one shared downcall handle (why: LibcCall)
    private static final LibcCall OPEN = LibcCall.of("open");
    private static final LibcCall CLOSE = LibcCall.of("close");
    private static final LibcCall PIPE2 = LibcCall.of("pipe2");
    private static final LibcCall READ = LibcCall.of("read");
    private static final LibcCall WRITE = LibcCall.of("write");
    private static final LibcCall POLL = LibcCall.of("poll");
    private static final LibcCall FCNTL = LibcCall.of("fcntl");
    private static final LibcCall IOCTL_PTR = LibcCall.of("ioctl");
    private static final LibcCall FCHOWN = LibcCall.of("fchown");
    private static final LibcCall MKFIFO = LibcCall.of("mkfifo");
    private static final LibcCall EVENTFD = LibcCall.of("eventfd");
    private static final LibcCall KILL = LibcCall.of("kill");
    private static final LibcCall STRERROR_R = LibcCall.of("strerror_r");

    /** One errno capture area per thread, reused by every call that thread makes. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> LibcCall.errnoState(Arena.ofAuto()));

    private StdioNative() {}

    /** The address of a native segment; a heap segment has none a call could use. */
    private static long address(MemorySegment buf) {
        if (!buf.isNative()) {
            throw new IllegalArgumentException("not native memory: " + buf);
        }
        return buf.address();
    }

    static int open(String path, int flags, int mode) throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            while (true) {
                int fd = (int) OPEN.call(capture, cpath.address(), flags | O_CLOEXEC, mode);
                if (fd >= 0) {
                    return fd;
                }
                int err = LibcCall.errno(capture);
                if (err != EINTR) {
                    throw new ErrnoException("open " + path, err);
                }
            }
        }
    }

    /** Closes fd; errors are ignored because the fd is released whatever close reports. */
    static void close(int fd) {
        if (fd < 0) {
            return;
        }
        CLOSE.call(CAPTURE.get(), fd);
    }

    /** A pipe, both ends O_CLOEXEC: {read end, write end}. */
    static int[] pipe() throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int rc = (int) PIPE2.call(capture, fds.address(), O_CLOEXEC);
            if (rc != 0) {
                throw new ErrnoException("pipe2", LibcCall.errno(capture));
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /** read(2): bytes read, 0 at EOF, or -errno. */
    static long read(int fd, MemorySegment buf, long len) {
        MemorySegment capture = CAPTURE.get();
        long n = READ.call(capture, fd, address(buf), len);
        return n >= 0 ? n : -LibcCall.errno(capture);
    }

    /** write(2): bytes written or -errno. */
    static long write(int fd, MemorySegment buf, long len) {
        MemorySegment capture = CAPTURE.get();
        long n = WRITE.call(capture, fd, address(buf), len);
        return n >= 0 ? n : -LibcCall.errno(capture);
    }

    /** Writes all of {@code data} to a blocking fd, throwing the errno (EPIPE, ENOSPC...) on failure. */
    static void writeFully(int fd, byte[] data) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = NativeMemory.uninitialized(arena, data.length);
            MemorySegment.copy(data, 0, buf, JAVA_BYTE, 0, data.length);
            long off = 0;
            while (off < data.length) {
                long n = write(fd, buf.asSlice(off), data.length - off);
                if (n >= 0) {
                    off += n;
                } else if (n != -EINTR) {
                    throw new ErrnoException("write fd " + fd, (int) -n);
                }
            }
        }
    }

    /** poll(2) over {@code count} pollfd entries: the number ready, 0 on timeout, or -errno. */
    static int poll(MemorySegment pollfds, int count, int timeoutMillis) {
        MemorySegment capture = CAPTURE.get();
        int n = (int) POLL.call(capture, address(pollfds), count, timeoutMillis);
        return n >= 0 ? n : -LibcCall.errno(capture);
    }

    static void setPollFd(MemorySegment pollfds, int index, int fd, short events) {
        long base = index * POLLFD_SIZE;
        pollfds.set(JAVA_INT, base, fd);
        pollfds.set(JAVA_SHORT, base + 4, events);
        pollfds.set(JAVA_SHORT, base + 6, (short) 0);
    }

    static short revents(MemorySegment pollfds, int index) {
        return pollfds.get(JAVA_SHORT, index * POLLFD_SIZE + 6);
    }

    private static int fcntl(int fd, int cmd, int arg) throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        int rc = (int) FCNTL.call(capture, fd, cmd, arg);
        if (rc < 0) {
            throw new ErrnoException("fcntl fd " + fd, LibcCall.errno(capture));
        }
        return rc;
    }

    static void setNonBlocking(int fd, boolean nonBlocking) throws ErrnoException {
        int flags = fcntl(fd, F_GETFL, 0);
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags) {
            fcntl(fd, F_SETFL, wanted);
        }
    }

    static boolean isCloseOnExec(int fd) throws ErrnoException {
        return (fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) != 0;
    }

    static void setCloseOnExec(int fd) throws ErrnoException {
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD, 0) | FD_CLOEXEC);
    }

    static void fchown(int fd, int uid, int gid) throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        if ((int) FCHOWN.call(capture, fd, uid, gid) != 0) {
            throw new ErrnoException("fchown fd " + fd + " to " + uid + ":" + gid, LibcCall.errno(capture));
        }
    }

    static void mkfifo(String path, int mode) throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        try (Arena arena = Arena.ofConfined()) {
            if ((int) MKFIFO.call(capture, arena.allocateFrom(path).address(), mode) != 0) {
                throw new ErrnoException("mkfifo " + path, LibcCall.errno(capture));
            }
        }
    }

    /** A non-blocking, close-on-exec eventfd used to wake threads parked in poll. */
    static int eventfd() throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        int fd = (int) EVENTFD.call(capture, 0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            throw new ErrnoException("eventfd", LibcCall.errno(capture));
        }
        return fd;
    }

    static void kill(int pid, int signal) throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        if ((int) KILL.call(capture, pid, signal) != 0) {
            throw new ErrnoException("kill " + pid + " signal " + signal, LibcCall.errno(capture));
        }
    }

    /** ioctl with a pointer argument (struct winsize, int). */
    static void ioctl(int fd, long request, MemorySegment arg, String what) throws ErrnoException {
        MemorySegment capture = CAPTURE.get();
        if ((int) IOCTL_PTR.call(capture, fd, request, address(arg)) != 0) {
            throw new ErrnoException(what, LibcCall.errno(capture));
        }
    }

    /** TIOCSWINSZ: struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }. */
    static void setWinsize(int fd, int rows, int cols) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8);
            ws.set(JAVA_SHORT, 0, (short) rows);
            ws.set(JAVA_SHORT, 2, (short) cols);
            ioctl(fd, TIOCSWINSZ, ws, "TIOCSWINSZ fd " + fd);
        }
    }

    /** TIOCGWINSZ: {rows, cols}. */
    static int[] getWinsize(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8);
            ioctl(fd, TIOCGWINSZ, ws, "TIOCGWINSZ fd " + fd);
            return new int[] {Short.toUnsignedInt(ws.get(JAVA_SHORT, 0)), Short.toUnsignedInt(ws.get(JAVA_SHORT, 2))};
        }
    }

    static String strerror(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            // GNU strerror_r: returns a pointer to the message (buf or a static string).
            long msg = STRERROR_R.call(LibcCall.errnoState(arena), errno, buf.address(), 256);
            return MemorySegment.ofAddress(msg).reinterpret(1024).getString(0, StandardCharsets.UTF_8);
        } catch (RuntimeException unreadable) {
            return "errno " + errno;
        }
    }
}
