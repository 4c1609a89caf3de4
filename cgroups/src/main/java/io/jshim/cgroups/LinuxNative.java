package io.jshim.cgroups;

import java.io.IOException;


import io.jshim.reaper.LibcCall;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;

/**
 * The few Linux system calls the OOM watcher needs that the JDK does not expose: eventfd,
 * epoll, inotify, and raw-fd open/read/close (cgroup.event_control wants fd numbers).
 */
final class LinuxNative {

    /** libc through {@link LibcCall}; every call that fails leaves its errno for {@link #errno()} on the same thread. */
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

    static final int EPOLL_EVENT_SIZE = io.jshim.reaper.Arch.EPOLL_EVENT_SIZE;
    static final int EPOLL_DATA_OFFSET = io.jshim.reaper.Arch.EPOLL_DATA_OFFSET;

    /** errno of this thread's last call through {@link LibC} that failed. */
    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    private static final class Holder {
        static final LibC LIBC = new Libc();
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

    private static final class Libc implements LibC {
        // Every call goes through LibcCall's one shared downcall handle (why: LibcCall). The segments passed here
        // come from automatic arenas (allocate), so a call that passes one keeps it reachable until it returns.
        private static final LibcCall EVENTFD = LibcCall.of("eventfd");
        private static final LibcCall EPOLL_CREATE1 = LibcCall.of("epoll_create1");
        private static final LibcCall EPOLL_CTL = LibcCall.of("epoll_ctl");
        private static final LibcCall EPOLL_WAIT = LibcCall.of("epoll_wait");
        private static final LibcCall INOTIFY_INIT1 = LibcCall.of("inotify_init1");
        private static final LibcCall INOTIFY_ADD_WATCH = LibcCall.of("inotify_add_watch");
        private static final LibcCall OPEN = LibcCall.of("open");
        private static final LibcCall READ = LibcCall.of("read");
        private static final LibcCall WRITE = LibcCall.of("write");
        private static final LibcCall CLOSE = LibcCall.of("close");
        private static final LibcCall STRERROR = LibcCall.of("strerror");

        @FunctionalInterface
        private interface Call {
            long invoke(Arena arena, MemorySegment errno);
        }

        private static long call(Call call) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = LibcCall.errnoState(arena);
                long r = call.invoke(arena, state);
                if (r < 0) {
                    LAST_ERRNO.get()[0] = LibcCall.errno(state);
                }
                return r;
            }
        }

        @Override public int eventfd(int initval, int flags) {
            return (int) call((a, e) -> (int) EVENTFD.call(e, initval, flags));
        }
        @Override public int epoll_create1(int flags) {
            return (int) call((a, e) -> (int) EPOLL_CREATE1.call(e, flags));
        }
        @Override public int epoll_ctl(int epfd, int op, int fd, MemorySegment event) {
            try {
                return (int) call((a, e) -> (int) EPOLL_CTL.call(e, epfd, op, fd, event.address()));
            } finally {
                Reference.reachabilityFence(event);
            }
        }
        @Override public int epoll_wait(int epfd, MemorySegment events, int maxevents, int timeoutMillis) {
            try {
                return (int) call((a, e) -> (int) EPOLL_WAIT.call(e, epfd, events.address(), maxevents, timeoutMillis));
            } finally {
                Reference.reachabilityFence(events);
            }
        }
        @Override public int inotify_init1(int flags) {
            return (int) call((a, e) -> (int) INOTIFY_INIT1.call(e, flags));
        }
        @Override public int inotify_add_watch(int fd, String path, int mask) {
            return (int) call((a, e) -> (int) INOTIFY_ADD_WATCH.call(e, fd, a.allocateFrom(path).address(), mask));
        }
        @Override public int open(String path, int flags) {
            return (int) call((a, e) -> (int) OPEN.call(e, a.allocateFrom(path).address(), flags));
        }
        @Override public long read(int fd, MemorySegment buf, long count) {
            try {
                return call((a, e) -> READ.call(e, fd, buf.address(), count));
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        @Override public long write(int fd, MemorySegment buf, long count) {
            try {
                return call((a, e) -> WRITE.call(e, fd, buf.address(), count));
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        @Override public int close(int fd) {
            return (int) call((a, e) -> (int) CLOSE.call(e, fd));
        }
        @Override public String strerror(int errnum) {
            try (Arena arena = Arena.ofConfined()) {
                long text = STRERROR.call(LibcCall.errnoState(arena), errnum);
                return text == 0 ? "errno " + errnum : MemorySegment.ofAddress(text).reinterpret(4096).getString(0);
            }
        }
    }

    /** An IOException naming the failed call and errno, e.g. "eventfd: Too many open files (errno 24)". */
    static IOException failure(String call) {
        int errno = errno();
        return new IOException(call + ": " + Holder.LIBC.strerror(errno) + " (errno " + errno + ")");
    }
}
