package io.jshim.cgroups;

import java.io.IOException;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The few Linux system calls the OOM watcher needs that the JDK does not expose: eventfd,
 * epoll, inotify, and raw-fd open/read/close (cgroup.event_control wants fd numbers).
 */
final class LinuxNative {

    /** libc as jnr-ffi binds it; every call saves errno. */
    public interface LibC {
        @SaveError int eventfd(int initval, int flags);
        @SaveError int epoll_create1(int flags);
        @SaveError int epoll_ctl(int epfd, int op, int fd, Pointer event);
        @SaveError int epoll_wait(int epfd, Pointer events, int maxevents, int timeoutMillis);
        @SaveError int inotify_init1(int flags);
        @SaveError int inotify_add_watch(int fd, String path, int mask);
        @SaveError int open(String path, int flags);
        @SaveError @ssize_t long read(int fd, Pointer buf, @size_t long count);
        @SaveError @ssize_t long write(int fd, Pointer buf, @size_t long count);
        @SaveError int close(int fd);
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

    private static final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class)
                .option(LibraryOption.SaveError, true)
                .load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    }

    private LinuxNative() {}

    static LibC libc() {
        return Holder.LIBC;
    }

    static Runtime runtime() {
        return Holder.RUNTIME;
    }

    static int errno() {
        return Holder.RUNTIME.getLastError();
    }

    /** An IOException naming the failed call and errno, e.g. "eventfd: Too many open files (errno 24)". */
    static IOException failure(String call) {
        int errno = errno();
        return new IOException(call + ": " + Holder.LIBC.strerror(errno) + " (errno " + errno + ")");
    }
}
