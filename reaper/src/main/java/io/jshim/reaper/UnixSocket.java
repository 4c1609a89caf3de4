package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;

/**
 * AF_UNIX stream sockets as plain fds, through {@link LibcCall}: socket, bind, listen, accept4, connect, send and
 * recv (into native memory or a byte array), shutdown, close, SO_PEERCRED, timeouts and O_NONBLOCK.
 *
 * <p>Why not NIO's {@code UnixDomainSocketAddress} channels: they cannot adopt an inherited fd nor read
 * SO_PEERCRED, and a selector costs a thread and a few hundred classes; why not Netty: each class a daemon loads
 * costs it resident memory through the AOT cache (docs/performance.md). These are the system calls and nothing
 * else: callers make their own threads (a blocked {@link #recv} or {@link #accept} blocks the OS thread; on a
 * virtual thread it pins the carrier, so read from platform threads).
 *
 * <p>Errors: a failing call throws {@link PosixException} (errno, its text and name), except where a method says
 * it returns a value for one errno (EAGAIN: nothing now). EINTR is retried. Every fd made here is close-on-exec;
 * {@link #send} uses MSG_NOSIGNAL, so a peer that has gone costs EPIPE, never SIGPIPE.
 *
 * <p>Functions returning C {@code int} have their results narrowed with a cast before the sign test (the upper
 * half of the result register is undefined for them, see {@link LibcCall}).
 *
 * <p>Each call takes a confined arena for its errno and arguments (microseconds; no shared state between
 * threads, so any thread may call anything, e.g. {@link #shutdown} from one thread wakes a {@link #recv} blocked in
 * another). Struct layouts are Linux's, the same on x86-64 and aarch64.
 */
public final class UnixSocket {
    /** The kernel's view of a connected peer when it connected (SO_PEERCRED's struct ucred). */
    public record Credentials(int pid, int uid, int gid) {}

    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PEERCRED = 17;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_SNDTIMEO = 21;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 04000;
    private static final int POLLIN = 1;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int EINPROGRESS = 115;
    /** struct sockaddr_un: sa_family_t (2 bytes) then sun_path[108]. */
    private static final int SUN_PATH_OFFSET = 2;
    private static final int SUN_PATH_MAX = 108;

    private static final LibcCall SOCKET = LibcCall.of("socket");
    private static final LibcCall BIND = LibcCall.of("bind");
    private static final LibcCall LISTEN = LibcCall.of("listen");
    private static final LibcCall ACCEPT4 = LibcCall.of("accept4");
    private static final LibcCall CONNECT = LibcCall.of("connect");
    private static final LibcCall RECV = LibcCall.of("recv");
    private static final LibcCall SEND = LibcCall.of("send");
    private static final LibcCall SHUTDOWN = LibcCall.of("shutdown");
    private static final LibcCall CLOSE = LibcCall.of("close");
    private static final LibcCall GETSOCKOPT = LibcCall.of("getsockopt");
    private static final LibcCall SETSOCKOPT = LibcCall.of("setsockopt");
    private static final LibcCall FCNTL = LibcCall.of("fcntl");
    private static final LibcCall POLL = LibcCall.of("poll");

    private UnixSocket() {}

    /** A new unbound AF_UNIX stream socket, blocking, close-on-exec. */
    public static int socket() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            return (int) check((int) SOCKET.call(s, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), s, "socket(AF_UNIX)");
        }
    }

    /**
     * A socket bound to {@code path} and listening with {@code backlog}; blocking. The file is created with the
     * process's umask (callers restrict it, e.g. chmod 0600); it must not exist (EADDRINUSE).
     */
    public static int listen(String path, int backlog) throws IOException {
        int fd = socket();
        try {
            bind(fd, path);
            listen(fd, backlog);
            return fd;
        } catch (IOException | RuntimeException e) {
            close(fd);
            throw e;
        }
    }

    public static void bind(int fd, String path) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            MemorySegment addr = address(a, path);
            check((int) BIND.call(s, fd, addr.address(), addr.byteSize()), s, "bind " + path);
        }
    }

    public static void listen(int fd, int backlog) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            check((int) LISTEN.call(s, fd, backlog), s, "listen fd " + fd);
        }
    }

    /**
     * accept4(2): the connection's fd (blocking, close-on-exec), or -1 when {@code listeningFd} is non-blocking
     * and nobody is waiting (EAGAIN).
     */
    public static int accept(int listeningFd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            while (true) {
                long fd = (int) ACCEPT4.call(s, listeningFd, 0, 0, SOCK_CLOEXEC);
                if (fd >= 0) {
                    return (int) fd;
                }
                int errno = LibcCall.errno(s);
                if (errno == EAGAIN) {
                    return -1;
                }
                if (errno != EINTR) {
                    throw new PosixException("accept4 fd " + listeningFd, errno);
                }
            }
        }
    }

    /**
     * A socket connected to {@code path}, blocking, close-on-exec. {@code timeoutMillis} (0: none) bounds the wait
     * for room in a full listen backlog; ETIMEDOUT-like failure is EAGAIN. A socket nobody listens on fails at
     * once (ECONNREFUSED, ENOENT).
     */
    public static int connect(String path, long timeoutMillis) throws IOException {
        int fd = socket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            MemorySegment addr = address(a, path);
            // A blocking AF_UNIX connect waits for backlog room as long as SO_SNDTIMEO says (unix_stream_connect).
            if (timeoutMillis > 0) {
                setSendTimeout(fd, timeoutMillis);
            }
            while (true) {
                long r = (int) CONNECT.call(s, fd, addr.address(), addr.byteSize());
                if (r == 0) {
                    break;
                }
                int errno = LibcCall.errno(s);
                if (errno != EINTR && errno != EINPROGRESS) {
                    throw new PosixException("connect " + path, errno);
                }
                if (errno == EINPROGRESS) { // interrupted after the request was queued: wait for it
                    pollIn(fd, (int) Math.min(Integer.MAX_VALUE, timeoutMillis == 0 ? -1 : timeoutMillis));
                    break;
                }
            }
            if (timeoutMillis > 0) {
                setSendTimeout(fd, 0);
            }
            return fd;
        } catch (IOException | RuntimeException e) {
            close(fd);
            throw e;
        }
    }

    /**
     * recv(2) of up to {@code length} bytes into {@code buffer} at {@code offset}: the count, 0 at end of input
     * (the peer closed or {@link #shutdown} was called on this socket), -1 when nothing is there now (EAGAIN: a
     * non-blocking socket, or a receive timeout passed).
     */
    public static long recv(int fd, MemorySegment buffer, long offset, long length) throws IOException {
        return transfer(RECV, "recv", 0, fd, buffer, offset, length);
    }

    /**
     * send(2) of up to {@code length} bytes of {@code buffer} from {@code offset}, MSG_NOSIGNAL: the count sent
     * (maybe fewer), or -1 when the socket has no room now (EAGAIN: non-blocking, or a send timeout passed).
     */
    public static long send(int fd, MemorySegment buffer, long offset, long length) throws IOException {
        return transfer(SEND, "send", MSG_NOSIGNAL, fd, buffer, offset, length);
    }

    /**
     * recv(2) or send(2) ({@code call}, with {@code flags}) over {@code buffer[offset, offset+length)}: the count,
     * -1 on EAGAIN, EINTR retried, any other errno thrown naming {@code operation}.
     */
    private static long transfer(LibcCall call, String operation, int flags, int fd, MemorySegment buffer,
            long offset, long length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, buffer.byteSize());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            while (true) {
                long n = call.call(s, fd, buffer.address() + offset, length, flags);
                if (n >= 0) {
                    return n;
                }
                int errno = LibcCall.errno(s);
                if (errno == EAGAIN) {
                    return -1;
                }
                if (errno != EINTR) {
                    throw new PosixException(operation + " fd " + fd, errno);
                }
            }
        } finally {
            Reference.reachabilityFence(buffer); // passed as an address: keep its memory alive
        }
    }

    /** {@link #recv} into {@code bytes[offset, offset+length)}, through a native buffer of that size. */
    public static int recv(int fd, byte[] bytes, int offset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buffer = NativeMemory.uninitialized(a, length);
            long n = recv(fd, buffer, 0, length);
            if (n > 0) {
                MemorySegment.copy(buffer, JAVA_BYTE, 0, bytes, offset, (int) n);
            }
            return (int) n;
        }
    }

    /**
     * Sends all of {@code bytes[offset, offset+length)} (a loop of send(2)), through one native copy. Throws
     * {@link PosixException} EAGAIN when a send timeout ({@link #setSendTimeout}) passes with the peer not
     * reading, or when the socket is non-blocking and full.
     */
    public static void sendFully(int fd, byte[] bytes, int offset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buffer = NativeMemory.uninitialized(a, length);
            MemorySegment.copy(bytes, offset, buffer, JAVA_BYTE, 0, length);
            long sent = 0;
            while (sent < length) {
                long n = send(fd, buffer, sent, length - sent);
                if (n < 0) {
                    throw new PosixException("send fd " + fd + " (" + sent + " of " + length + " bytes sent)", EAGAIN);
                }
                sent += n;
            }
        }
    }

    /**
     * shutdown(2): {@link #SHUT_RDWR} makes a {@link #recv} blocked in another thread return 0 and the peer see end
     * of input, without freeing the fd number (so no other thread's call can land on a reused fd). ENOTCONN (the
     * peer already went) is ignored.
     */
    public static void shutdown(int fd, int how) {
        try (Arena a = Arena.ofConfined()) {
            SHUTDOWN.call(LibcCall.errnoState(a), fd, how);
        }
    }

    /** close(2); a negative fd is ignored, as are errors (Linux has released the fd whatever close returns). */
    public static void close(int fd) {
        if (fd < 0) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            CLOSE.call(LibcCall.errnoState(a), fd);
        }
    }

    /** SO_PEERCRED: who connected (pid, uid, gid as the kernel recorded them at connect/listen). */
    public static Credentials peerCredentials(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            MemorySegment ucred = a.allocate(12, 4); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            check((int) GETSOCKOPT.call(s, fd, SOL_SOCKET, SO_PEERCRED, ucred.address(), len.address()), s,
                    "getsockopt SO_PEERCRED fd " + fd);
            return new Credentials(ucred.get(JAVA_INT, 0), ucred.get(JAVA_INT, 4), ucred.get(JAVA_INT, 8));
        }
    }

    /** SO_SNDTIMEO: a blocking send (and connect) gives up with EAGAIN after {@code millis}; 0 waits forever. */
    public static void setSendTimeout(int fd, long millis) throws IOException {
        setTimeout(fd, SO_SNDTIMEO, millis);
    }

    /** SO_RCVTIMEO: a blocking recv returns -1 (EAGAIN) after {@code millis} without input; 0 waits forever. */
    public static void setReceiveTimeout(int fd, long millis) throws IOException {
        setTimeout(fd, SO_RCVTIMEO, millis);
    }

    private static void setTimeout(int fd, int option, long millis) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            MemorySegment timeval = a.allocate(16, 8); // struct timeval { time_t sec; suseconds_t usec; }
            timeval.set(JAVA_LONG, 0, millis / 1000);
            timeval.set(JAVA_LONG, 8, (millis % 1000) * 1000);
            check((int) SETSOCKOPT.call(s, fd, SOL_SOCKET, option, timeval.address(), 16), s,
                    "setsockopt " + (option == SO_SNDTIMEO ? "SO_SNDTIMEO" : "SO_RCVTIMEO") + " fd " + fd);
        }
    }

    /** Whether O_NONBLOCK is set on {@code fd}'s open file description. */
    public static boolean isNonBlocking(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            return (check((int) FCNTL.call(s, fd, F_GETFL, 0), s, "fcntl F_GETFL fd " + fd) & O_NONBLOCK) != 0;
        }
    }

    /**
     * Sets or clears O_NONBLOCK. It belongs to the open file description, so it changes for every process holding
     * the same description (an inherited or pidfd_getfd'ed fd), not only for this fd.
     */
    public static void setNonBlocking(int fd, boolean nonBlocking) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            int flags = (int) check((int) FCNTL.call(s, fd, F_GETFL, 0), s, "fcntl F_GETFL fd " + fd);
            int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
            if (wanted != flags) {
                check((int) FCNTL.call(s, fd, F_SETFL, wanted), s, "fcntl F_SETFL fd " + fd);
            }
        }
    }

    /**
     * poll(2) for input on {@code fd} ({@code timeoutMillis} -1: forever): whether it is readable (for a listening
     * socket: a connection waits; also true at end of input or error, which the next call reports).
     */
    public static boolean pollIn(int fd, int timeoutMillis) throws IOException {
        return (pollIn(fd, -1, timeoutMillis) & 1) != 0;
    }

    /**
     * poll(2) for input on two fds at once ({@code other} negative: only {@code fd}), e.g. a listening socket and
     * the read end of a pipe another thread writes to in order to stop the waiting one: bit 1 set when {@code fd}
     * is readable (or at end of input, or in error), bit 2 when {@code other} is; 0 when the timeout passed.
     */
    public static int pollIn(int fd, int other, int timeoutMillis) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            MemorySegment pollfds = a.allocate(16, 4); // struct pollfd { int fd; short events; short revents; }[2]
            pollfds.set(JAVA_INT, 0, fd);
            pollfds.set(JAVA_SHORT, 4, (short) POLLIN);
            pollfds.set(JAVA_INT, 8, other); // poll ignores a negative fd
            pollfds.set(JAVA_SHORT, 12, (short) POLLIN);
            while (true) {
                long r = (int) POLL.call(s, pollfds.address(), 2, timeoutMillis);
                if (r >= 0) {
                    return (pollfds.get(JAVA_SHORT, 6) != 0 ? 1 : 0) | (pollfds.get(JAVA_SHORT, 14) != 0 ? 2 : 0);
                }
                int errno = LibcCall.errno(s);
                if (errno != EINTR) {
                    throw new PosixException("poll fd " + fd, errno);
                }
            }
        }
    }

    /** struct sockaddr_un for {@code path}, sized to the path and its NUL. */
    private static MemorySegment address(Arena a, String path) throws IOException {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= SUN_PATH_MAX) {
            throw new IOException("unix socket path too long (" + bytes.length + " bytes, at most "
                    + (SUN_PATH_MAX - 1) + "): " + path);
        }
        MemorySegment addr = a.allocate(SUN_PATH_OFFSET + bytes.length + 1, 2);
        addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, JAVA_BYTE, SUN_PATH_OFFSET, bytes.length);
        addr.set(JAVA_BYTE, SUN_PATH_OFFSET + bytes.length, (byte) 0);
        return addr;
    }

    private static long check(long result, MemorySegment errnoState, String operation) throws PosixException {
        if (result < 0) {
            throw new PosixException(operation, LibcCall.errno(errnoState));
        }
        return result;
    }
}
