package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The glibc functions this module calls, bound with the FFM API (java.lang.foreign).
 *
 * <p>Why not jnr-ffi: it generates its binding classes at run time (ASM, then jffi's native stub
 * library), 150-200 ms of a cold JVM on the shim daemon's boot path even with the AOT cache, which
 * cannot hold generated classes. The FFM classes themselves come from the AOT cache.
 *
 * <p>Calls that report failure through errno return {@code -errno} instead of -1 (the result of a
 * successful call is never negative), so errno travels with the result and no thread-local state
 * is needed: errno is captured by the linker right after the call ({@code captureCallState}),
 * before the JVM can clobber it. The posix_spawn family returns its error number itself.
 *
 * <p>Linking is what costs: every distinct function shape spins a stub class and its method-handle forms at
 * run time (about 10 ms each in a cold JVM; the AOT cache cannot hold them). So each function is linked
 * only when first called ({@link Fn}): the daemon's boot links just prctl and waitid, the first spawn
 * the posix_spawn family. (Linking everything on a background thread during boot was tried: on two
 * busy cores it slowed the boot as much as it spared the first container.) Variadic functions (open, fcntl, ioctl, prctl) are linked
 * as variadic ({@code firstVariadicArg}). Struct sizes and offsets used with these functions are
 * glibc's on x86-64 Linux (checked against the headers with a C program).
 */
final class Native {
    // errno values (Linux, all architectures this runs on)
    static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EBADF = 9, ECHILD = 10,
            EAGAIN = 11, ENOTTY = 25, EPIPE = 32;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private Native() {
    }

    /** A call that may fail with errno: gets the call's arena (for its arguments) and the errno capture segment. */
    @FunctionalInterface
    interface ErrnoCall {
        long invoke(Arena arena, MemorySegment errnoState) throws Throwable;
    }

    /** Runs {@code call} with a fresh confined arena; its result, or -errno when it returned a negative value. */
    static long call(ErrnoCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            long result = call.invoke(arena, state);
            return result >= 0 ? result : -(int) ERRNO.get(state, 0L);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t); // downcalls throw nothing checked
        }
    }

    /**
     * One libc function, linked on first use (thread-safe; a caller that arrives during linking waits
     * for it). With {@code errno} the handle takes the errno capture segment as its first argument.
     */
    static final class Fn {
        private final String name;
        private final FunctionDescriptor descriptor;
        private final Linker.Option[] options;
        /** Written once under {@code this}; volatile for the unlocked fast path. */
        private volatile MethodHandle handle;

        Fn(String name, boolean errno, FunctionDescriptor descriptor, Linker.Option... options) {
            this.name = name;
            this.descriptor = descriptor;
            if (errno) {
                options = Arrays.copyOf(options, options.length + 1);
                options[options.length - 1] = CAPTURE_ERRNO;
            }
            this.options = options;
        }

        MethodHandle handle() {
            MethodHandle h = handle;
            if (h == null) {
                synchronized (this) {
                    h = handle;
                    if (h == null) {
                        MemorySegment symbol = LINKER.defaultLookup().find(name)
                                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
                        h = LINKER.downcallHandle(symbol, descriptor, options);
                        handle = h;
                    }
                }
            }
            return h;
        }
    }

    /** Rethrows an unchecked throwable as it is; wraps anything else (a downcall throws nothing checked). */
    static RuntimeException unexpected(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof RuntimeException e ? e : new IllegalStateException("native call failed", t);
    }

    /** The exception for a failed call: ESRCH becomes {@link NoSuchProcessException}. */
    static PosixException failure(String operation, int errno) {
        return errno == ESRCH ? new NoSuchProcessException(operation) : new PosixException(operation, errno);
    }

    // ---- processes ----

    private static final Fn PRCTL = new Fn("prctl", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final Fn GETEUID = new Fn("geteuid", false, FunctionDescriptor.of(JAVA_INT));
    private static final Fn GETEGID = new Fn("getegid", false, FunctionDescriptor.of(JAVA_INT));
    private static final Fn KILL = new Fn("kill", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Fn WAITID = new Fn("waitid", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final Fn WAITPID = new Fn("waitpid", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

    static int prctl(int option, long arg2, long arg3, long arg4, long arg5) {
        return (int) call((a, s) -> (int) PRCTL.handle().invokeExact(s, option, arg2, arg3, arg4, arg5));
    }

    static int geteuid() {
        try {
            return (int) GETEUID.handle().invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int getegid() {
        try {
            return (int) GETEGID.handle().invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int kill(int pid, int signal) {
        return (int) call((a, s) -> (int) KILL.handle().invokeExact(s, pid, signal));
    }

    /** waitid(2) into {@code siginfo} (a 128-byte siginfo_t). */
    static int waitid(int idType, int id, MemorySegment siginfo, int options) {
        return (int) call((a, s) -> (int) WAITID.handle().invokeExact(s, idType, id, siginfo, options));
    }

    /** waitpid(2), the status into {@code status} (an int). */
    static int waitpid(int pid, MemorySegment status, int options) {
        return (int) call((a, s) -> (int) WAITPID.handle().invokeExact(s, pid, status, options));
    }

    // ---- file descriptors ----

    private static final Fn OPEN = new Fn("open", true,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final Fn CLOSE = new Fn("close", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final Fn PIPE2 = new Fn("pipe2", true, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final Fn FCHOWN = new Fn("fchown", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Fn MKFIFO = new Fn("mkfifo", true, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final Fn READ = new Fn("read", true, FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final Fn WRITE = new Fn("write", true, FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final Fn FCNTL = new Fn("fcntl", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final Fn IOCTL = new Fn("ioctl", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final Fn POLL = new Fn("poll", true, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final Fn STRERROR = new Fn("strerror", false, FunctionDescriptor.of(ADDRESS, JAVA_INT));

    static int open(String path, int flags, int mode) {
        return (int) call((a, s) -> (int) OPEN.handle().invokeExact(s, a.allocateFrom(path), flags, mode));
    }

    static int close(int fd) {
        return (int) call((a, s) -> (int) CLOSE.handle().invokeExact(s, fd));
    }

    /** pipe2(2): on success {@code fds} holds {read end, write end}. */
    static int pipe2(int[] fds, int flags) {
        return (int) call((a, s) -> {
            MemorySegment pair = a.allocate(JAVA_INT, 2);
            int r = (int) PIPE2.handle().invokeExact(s, pair, flags);
            if (r == 0) {
                fds[0] = pair.getAtIndex(JAVA_INT, 0);
                fds[1] = pair.getAtIndex(JAVA_INT, 1);
            }
            return r;
        });
    }

    static int fchown(int fd, int uid, int gid) {
        return (int) call((a, s) -> (int) FCHOWN.handle().invokeExact(s, fd, uid, gid));
    }

    static int mkfifo(String path, int mode) {
        return (int) call((a, s) -> (int) MKFIFO.handle().invokeExact(s, a.allocateFrom(path), mode));
    }

    /**
     * read(2) into {@code buf[off, off+len)} through a native buffer: a heap array cannot be handed
     * to a call that may block (only "critical" calls take heap memory, and those hold up the GC).
     */
    static long read(int fd, byte[] buf, int off, int len) {
        return call((a, s) -> {
            MemorySegment buffer = a.allocate(len);
            long n = (long) READ.handle().invokeExact(s, fd, buffer, (long) len);
            if (n > 0) {
                MemorySegment.copy(buffer, JAVA_BYTE, 0, buf, off, (int) n);
            }
            return n;
        });
    }

    static long write(int fd, byte[] buf, int off, int len) {
        return call((a, s) -> {
            MemorySegment buffer = a.allocate(Math.max(len, 1));
            MemorySegment.copy(buf, off, buffer, JAVA_BYTE, 0, len);
            return (long) WRITE.handle().invokeExact(s, fd, buffer, (long) len);
        });
    }

    static int fcntl(int fd, int cmd, int arg) {
        return (int) call((a, s) -> (int) FCNTL.handle().invokeExact(s, fd, cmd, arg));
    }

    static int ioctl(int fd, long request, MemorySegment arg) {
        return (int) call((a, s) -> (int) IOCTL.handle().invokeExact(s, fd, request, arg));
    }

    /** poll(2) on {@code nfds} struct pollfd in {@code fds}. */
    static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        return (int) call((a, s) -> (int) POLL.handle().invokeExact(s, fds, nfds, timeoutMillis));
    }

    /** strerror(3), or null. */
    static String strerror(int errnum) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.handle().invokeExact(errnum);
            return text.equals(MemorySegment.NULL) ? null : text.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
