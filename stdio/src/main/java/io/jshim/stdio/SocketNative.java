package io.jshim.stdio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jshim.reaper.LibcCall;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * The unix-socket calls a console socket needs: listen on a path, accept, and receive the one fd runc sends with
 * SCM_RIGHTS (recvmsg(2)). Every fd is non-blocking and close-on-exec from the start (SOCK_CLOEXEC,
 * MSG_CMSG_CLOEXEC): no child spawned meanwhile can inherit the socket or the pty master.
 */
final class SocketNative {
    static final int MAX_PATH = 107; // sun_path is 108 bytes with its NUL

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 04000;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final long SOCKADDR_UN_SIZE = 110;

    /** {@link #receiveFd}: nothing readable yet. */
    static final int NOTHING_YET = -1;
    /** {@link #receiveFd}: the peer closed (or failed) without sending an fd. */
    static final int GONE = -2;

    /*
     * struct msghdr (64-bit Linux): name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48.
     * struct cmsghdr: len (size_t) 0, level 8, type 12, data 16. Room for 4 fds: a peer sending more gets the rest
     * discarded by the kernel (MSG_CTRUNC), never installed here.
     */
    private static final long MSGHDR_SIZE = 56;
    private static final long IOVEC_SIZE = 16;
    private static final long CMSG_HEADER = 16;
    private static final long CONTROL_SIZE = CMSG_HEADER + 4 * 4;
    /** runc sends the pty's name as the data (/dev/pts/N); what is read here is discarded. */
    private static final long DATA_SIZE = 256;
    static final long SCRATCH_SIZE = MSGHDR_SIZE + IOVEC_SIZE + CONTROL_SIZE + DATA_SIZE;

    private static final LibcCall SOCKET = LibcCall.of("socket");
    private static final LibcCall BIND = LibcCall.of("bind");
    private static final LibcCall LISTEN = LibcCall.of("listen");
    private static final LibcCall ACCEPT4 = LibcCall.of("accept4");
    private static final LibcCall RECVMSG = LibcCall.of("recvmsg");
    private static final LibcCall CLOSE = LibcCall.of("close");

    private SocketNative() {}

    /** A socket listening on {@code path} (which must not exist), non-blocking and close-on-exec. */
    static int listen(String path, int backlog) throws ErrnoException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_PATH) {
            throw new IllegalArgumentException("unix socket path longer than " + MAX_PATH + " bytes: " + path);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = LibcCall.errnoState(arena);
            int fd = (int) SOCKET.call(errno, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new ErrnoException("socket", LibcCall.errno(errno));
            }
            MemorySegment addr = arena.allocate(SOCKADDR_UN_SIZE); // zeroed: sun_path ends with a NUL
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
            if ((int) BIND.call(errno, fd, addr.address(), SOCKADDR_UN_SIZE) != 0) {
                int err = LibcCall.errno(errno);
                CLOSE.call(errno, fd);
                throw new ErrnoException("bind " + path, err);
            }
            if ((int) LISTEN.call(errno, fd, backlog) != 0) {
                int err = LibcCall.errno(errno);
                CLOSE.call(errno, fd);
                throw new ErrnoException("listen " + path, err);
            }
            return fd;
        }
    }

    /** A pending connection (non-blocking, close-on-exec), or -errno (EAGAIN: none pending). */
    static int accept(int listener, MemorySegment errno) {
        int fd = (int) ACCEPT4.call(errno, listener, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
        return fd >= 0 ? fd : -LibcCall.errno(errno);
    }

    /**
     * One non-blocking recvmsg on a connection: the first fd it carried (close-on-exec; any further ones are
     * closed), {@link #NOTHING_YET}, or {@link #GONE} at EOF or on an error. Data without an fd is discarded.
     *
     * @param scratch {@link #SCRATCH_SIZE} bytes of native memory the caller reuses across calls
     */
    static int receiveFd(int conn, MemorySegment scratch, MemorySegment errno) {
        MemorySegment msg = scratch.asSlice(0, MSGHDR_SIZE);
        MemorySegment iov = scratch.asSlice(MSGHDR_SIZE, IOVEC_SIZE);
        MemorySegment control = scratch.asSlice(MSGHDR_SIZE + IOVEC_SIZE, CONTROL_SIZE);
        MemorySegment data = scratch.asSlice(MSGHDR_SIZE + IOVEC_SIZE + CONTROL_SIZE, DATA_SIZE);
        msg.fill((byte) 0);
        control.fill((byte) 0);
        iov.set(JAVA_LONG, 0, data.address());
        iov.set(JAVA_LONG, 8, DATA_SIZE);
        msg.set(JAVA_LONG, 16, iov.address());
        msg.set(JAVA_LONG, 24, 1);
        msg.set(JAVA_LONG, 32, control.address());
        msg.set(JAVA_LONG, 40, CONTROL_SIZE);
        long n = RECVMSG.call(errno, conn, msg.address(), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            int err = LibcCall.errno(errno);
            return err == StdioNative.EAGAIN || err == StdioNative.EINTR ? NOTHING_YET : GONE;
        }
        long controlLength = msg.get(JAVA_LONG, 40);
        int first = -1;
        if (controlLength >= CMSG_HEADER && control.get(JAVA_INT, 8) == SOL_SOCKET
                && control.get(JAVA_INT, 12) == SCM_RIGHTS) {
            long count = (Math.min(control.get(JAVA_LONG, 0), CONTROL_SIZE) - CMSG_HEADER) / 4;
            for (long i = 0; i < count; i++) {
                int fd = control.get(JAVA_INT, CMSG_HEADER + 4 * i);
                if (first < 0) {
                    first = fd;
                } else {
                    CLOSE.call(errno, fd);
                }
            }
        }
        if (first >= 0) {
            return first;
        }
        return n == 0 ? GONE : NOTHING_YET;
    }
}
