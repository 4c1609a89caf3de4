package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;

/**
 * The glibc functions this module calls, through {@link LibcCall}'s one shared downcall handle.
 *
 * <p>Why not jnr-ffi: it generates its binding classes at run time (ASM, then jffi's native stub
 * library), a large part of a cold daemon's boot even with the AOT cache (docs/performance.md), which
 * cannot hold generated classes. Why not one FFM handle per function: each shape spins its own stub (see
 * {@link LibcCall}).
 *
 * <p>Calls that report failure through errno return {@code -errno} instead of -1 (the result of a
 * successful call is never negative), so errno travels with the result and no thread-local state
 * is needed: errno is captured right after the call, before the JVM can clobber it. The posix_spawn family
 * returns its error number itself. Struct sizes and offsets used with these functions are glibc's on x86-64
 * Linux, kept in {@link Arch} (checked against the headers with a C program).
 */
final class Native {
    // errno values (Linux, all architectures this runs on)
    static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EBADF = 9, ECHILD = 10,
            EAGAIN = 11, ENOTTY = 25, EPIPE = 32;

    private Native() {
    }

    /** A call that may fail with errno: gets the call's arena (for its arguments) and the errno capture segment. */
    @FunctionalInterface
    interface ErrnoCall {
        long invoke(Arena arena, MemorySegment errnoState);
    }

    /** Runs {@code call} with a fresh confined arena; its result, or -errno when it returned a negative value. */
    static long call(ErrnoCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = LibcCall.errnoState(arena);
            long result = call.invoke(arena, state);
            return result >= 0 ? result : -LibcCall.errno(state);
        }
    }

    /** The exception for a failed call: ESRCH becomes {@link NoSuchProcessException}. */
    static PosixException failure(String operation, int errno) {
        return errno == ESRCH ? new NoSuchProcessException(operation) : new PosixException(operation, errno);
    }

    // ---- processes ----

    private static final LibcCall PRCTL = LibcCall.of("prctl");
    private static final LibcCall GETEUID = LibcCall.of("geteuid");
    private static final LibcCall GETEGID = LibcCall.of("getegid");
    private static final LibcCall KILL = LibcCall.of("kill");
    private static final LibcCall WAITID = LibcCall.of("waitid");
    private static final LibcCall WAITPID = LibcCall.of("waitpid");

    static int prctl(int option, long arg2, long arg3, long arg4, long arg5) {
        return (int) call((a, s) -> (int) PRCTL.call(s, option, arg2, arg3, arg4, arg5));
    }

    static int geteuid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) GETEUID.call(LibcCall.errnoState(arena)); // cannot fail
        }
    }

    static int getegid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) GETEGID.call(LibcCall.errnoState(arena)); // cannot fail
        }
    }

    static int kill(int pid, int signal) {
        return (int) call((a, s) -> (int) KILL.call(s, pid, signal));
    }

    // pidfd_open(2) and pidfd_send_signal(2) through syscall(2): glibc has wrappers only from 2.36 on. Their
    // numbers come from the table all architectures share since Linux 5.1 (x86-64 and aarch64 alike).
    private static final LibcCall SYSCALL = LibcCall.of("syscall");
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;

    /** pidfd_open(pid, 0): a new fd (close-on-exec), or -errno (ENOSYS before Linux 5.3, ESRCH for no such pid). */
    static int pidfdOpen(int pid) {
        return (int) call((a, s) -> (int) SYSCALL.call(s, SYS_PIDFD_OPEN, pid, 0));
    }

    /** pidfd_send_signal(pidfd, signal, NULL, 0): 0, or -errno (ESRCH once the process has exited). */
    static int pidfdSendSignal(int pidfd, int signal) {
        return (int) call((a, s) -> (int) SYSCALL.call(s, SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0));
    }

    /** waitid(2) into {@code siginfo} (a 128-byte siginfo_t). */
    static int waitid(int idType, int id, MemorySegment siginfo, int options) {
        try {
            return (int) call((a, s) -> (int) WAITID.call(s, idType, id, siginfo.address(), options));
        } finally {
            Reference.reachabilityFence(siginfo); // passed as an address: keep its memory alive
        }
    }

    /** waitpid(2), the status into {@code status} (an int). */
    static int waitpid(int pid, MemorySegment status, int options) {
        try {
            return (int) call((a, s) -> (int) WAITPID.call(s, pid, status.address(), options));
        } finally {
            Reference.reachabilityFence(status); // passed as an address: keep its memory alive
        }
    }

    // ---- file descriptors ----

    private static final LibcCall OPEN = LibcCall.of("open");
    private static final LibcCall CLOSE = LibcCall.of("close");
    private static final LibcCall PIPE2 = LibcCall.of("pipe2");
    private static final LibcCall FCHOWN = LibcCall.of("fchown");
    private static final LibcCall MKFIFO = LibcCall.of("mkfifo");
    private static final LibcCall READ = LibcCall.of("read");
    private static final LibcCall WRITE = LibcCall.of("write");
    private static final LibcCall FCNTL = LibcCall.of("fcntl");
    private static final LibcCall IOCTL = LibcCall.of("ioctl");
    private static final LibcCall POLL = LibcCall.of("poll");
    private static final LibcCall STRERROR = LibcCall.of("strerror");

    static int open(String path, int flags, int mode) {
        return (int) call((a, s) -> (int) OPEN.call(s, a.allocateFrom(path).address(), flags, mode));
    }

    static int close(int fd) {
        return (int) call((a, s) -> (int) CLOSE.call(s, fd));
    }

    /** pipe2(2): on success {@code fds} holds {read end, write end}. */
    static int pipe2(int[] fds, int flags) {
        return (int) call((a, s) -> {
            MemorySegment pair = a.allocate(JAVA_INT, 2);
            int r = (int) PIPE2.call(s, pair.address(), flags);
            if (r == 0) {
                fds[0] = pair.getAtIndex(JAVA_INT, 0);
                fds[1] = pair.getAtIndex(JAVA_INT, 1);
            }
            return r;
        });
    }

    static int fchown(int fd, int uid, int gid) {
        return (int) call((a, s) -> (int) FCHOWN.call(s, fd, uid, gid));
    }

    static int mkfifo(String path, int mode) {
        return (int) call((a, s) -> (int) MKFIFO.call(s, a.allocateFrom(path).address(), mode));
    }

    /**
     * read(2) into {@code buf[off, off+len)} through a native buffer: a heap array cannot be handed
     * to a call that may block (only "critical" calls take heap memory, and those hold up the GC).
     */
    static long read(int fd, byte[] buf, int off, int len) {
        return call((a, s) -> {
            MemorySegment buffer = NativeMemory.uninitialized(a, len);
            long n = READ.call(s, fd, buffer.address(), len);
            if (n > 0) {
                MemorySegment.copy(buffer, JAVA_BYTE, 0, buf, off, (int) n);
            }
            return n;
        });
    }

    static long write(int fd, byte[] buf, int off, int len) {
        return call((a, s) -> {
            MemorySegment buffer = NativeMemory.uninitialized(a, len);
            MemorySegment.copy(buf, off, buffer, JAVA_BYTE, 0, len);
            return WRITE.call(s, fd, buffer.address(), len);
        });
    }

    static int fcntl(int fd, int cmd, int arg) {
        return (int) call((a, s) -> (int) FCNTL.call(s, fd, cmd, arg));
    }

    static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            return (int) call((a, s) -> (int) IOCTL.call(s, fd, request, arg.address()));
        } finally {
            Reference.reachabilityFence(arg); // passed as an address: keep its memory alive
        }
    }

    /** poll(2) on {@code nfds} struct pollfd in {@code fds}. */
    static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) call((a, s) -> (int) POLL.call(s, fds.address(), nfds, timeoutMillis));
        } finally {
            Reference.reachabilityFence(fds); // passed as an address: keep its memory alive
        }
    }

    /** strerror(3), or null. */
    static String strerror(int errnum) {
        try (Arena arena = Arena.ofConfined()) {
            long text = STRERROR.call(LibcCall.errnoState(arena), errnum);
            return text == 0 ? null : MemorySegment.ofAddress(text).reinterpret(4096).getString(0);
        }
    }
}
