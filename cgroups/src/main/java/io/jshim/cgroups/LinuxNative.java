package io.jshim.cgroups;

import java.io.IOException;

import static java.lang.foreign.ValueLayout.ADDRESS;
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

/**
 * The few Linux system calls the OOM watcher needs that the JDK does not expose: eventfd,
 * epoll, inotify, and raw-fd open/read/close (cgroup.event_control wants fd numbers).
 */
final class LinuxNative {

    /** libc through the FFM API; every call that fails leaves its errno for {@link #errno()} on the same thread. */
    public interface LibC {
        int eventfd(int initval, int flags);
        int epoll_create1(int flags);
        int epoll_ctl(int epfd, int op, int fd, MemorySegment event);
        int epoll_wait(int epfd, MemorySegment events, int maxevents, int timeoutMillis);
        int inotify_init1(int flags);
        int inotify_add_watch(int fd, String path, int mask);
        int open(String path, int flags);
        long read(int fd, MemorySegment buf, long count);
        long write(int fd, MemorySegment buf, long count);
        int close(int fd);
        String strerror(int errnum);
    }

    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int EFD_CLOEXEC = O_CLOEXEC;
    static final int EFD_NONBLOCK = 0x800;
    static final int EPOLL_CLOEXEC = O_CLOEXEC;
    static final int IN_CLOEXEC = O_CLOEXEC;
    static final int IN_NONBLOCK = 0x800;
    static final int IN_MODIFY = 0x2;

    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLLIN = 0x1;
    static final int EPOLLERR = 0x8;
    static final int EPOLLHUP = 0x10;

    static final int EINTR = 4;
    static final int EAGAIN = 11;

    /**
     * struct epoll_event is {uint32 events; uint64 data} and is declared packed on x86-64 only
     * (12 bytes); other architectures align data to 8 (16 bytes).
     */
    static final boolean EPOLL_PACKED = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> true;
        default -> false;
    };
    static final int EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
    static final int EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;

    /** errno of this thread's last call through {@link LibC} that failed. */
    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    private static final class Holder {
        static final LibC LIBC = new Ffm();
    }

    private LinuxNative() {}

    static LibC libc() {
        return Holder.LIBC;
    }

    static int errno() {
        return LAST_ERRNO.get()[0];
    }

    /** Native memory that lives as long as it is reachable. */
    static MemorySegment allocate(long bytes) {
        return Arena.ofAuto().allocate(bytes, 8);
    }

    private static final class Ffm implements LibC {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        private static final MethodHandle EVENTFD = libc("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        private static final MethodHandle EPOLL_CREATE1 = libc("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        private static final MethodHandle EPOLL_CTL = libc("epoll_ctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        private static final MethodHandle EPOLL_WAIT = libc("epoll_wait",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        private static final MethodHandle INOTIFY_INIT1 = libc("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        private static final MethodHandle INOTIFY_ADD_WATCH = libc("inotify_add_watch",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2),
                Linker.Option.captureCallState("errno"));
        private static final MethodHandle READ = libc("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        private static final MethodHandle WRITE = libc("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        private static final MethodHandle STRERROR = LINKER.downcallHandle(
                LINKER.defaultLookup().find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

        private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor,
                    Linker.Option.captureCallState("errno"));
        }

        @FunctionalInterface
        private interface Call {
            long invoke(Arena arena, MemorySegment errno) throws Throwable;
        }

        private static long call(Call call) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(ERRNO_STATE);
                long r = call.invoke(arena, state);
                if (r < 0) {
                    LAST_ERRNO.get()[0] = (int) ERRNO.get(state, 0L);
                }
                return r;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("native call failed", t);
            }
        }

        @Override public int eventfd(int initval, int flags) {
            return (int) call((a, e) -> (int) EVENTFD.invokeExact(e, initval, flags));
        }
        @Override public int epoll_create1(int flags) {
            return (int) call((a, e) -> (int) EPOLL_CREATE1.invokeExact(e, flags));
        }
        @Override public int epoll_ctl(int epfd, int op, int fd, MemorySegment event) {
            return (int) call((a, e) -> (int) EPOLL_CTL.invokeExact(e, epfd, op, fd, event));
        }
        @Override public int epoll_wait(int epfd, MemorySegment events, int maxevents, int timeoutMillis) {
            return (int) call((a, e) -> (int) EPOLL_WAIT.invokeExact(e, epfd, events, maxevents, timeoutMillis));
        }
        @Override public int inotify_init1(int flags) {
            return (int) call((a, e) -> (int) INOTIFY_INIT1.invokeExact(e, flags));
        }
        @Override public int inotify_add_watch(int fd, String path, int mask) {
            return (int) call((a, e) -> (int) INOTIFY_ADD_WATCH.invokeExact(e, fd, a.allocateFrom(path), mask));
        }
        @Override public int open(String path, int flags) {
            return (int) call((a, e) -> (int) OPEN.invokeExact(e, a.allocateFrom(path), flags));
        }
        @Override public long read(int fd, MemorySegment buf, long count) {
            return call((a, e) -> (long) READ.invokeExact(e, fd, buf, count));
        }
        @Override public long write(int fd, MemorySegment buf, long count) {
            return call((a, e) -> (long) WRITE.invokeExact(e, fd, buf, count));
        }
        @Override public int close(int fd) {
            return (int) call((a, e) -> (int) CLOSE.invokeExact(e, fd));
        }
        @Override public String strerror(int errnum) {
            try {
                MemorySegment text = (MemorySegment) STRERROR.invokeExact(errnum);
                return text.equals(MemorySegment.NULL) ? "errno " + errnum : text.reinterpret(4096).getString(0);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** An IOException naming the failed call and errno, e.g. "eventfd: Too many open files (errno 24)". */
    static IOException failure(String call) {
        int errno = errno();
        return new IOException(call + ": " + Holder.LIBC.strerror(errno) + " (errno " + errno + ")");
    }
}
