package io.jshim.shim.cli;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jshim.reaper.LibcCall;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A listening unix socket made with plain libc calls ({@link LibcCall}), so that {@code start} can hand its file descriptor
 * to the daemon as fd 3 without loading Netty (the daemon adopts it; containerd's first call waits in the backlog).
 * Each call that can fail captures errno right after it returns.
 */
public final class UnixListener {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    /** Non-blocking from the start, as the daemon's epoll loop drives it: the daemon then need not fcntl it. */
    private static final int SOCK_NONBLOCK = 0x800;
    static final int EADDRINUSE = 98;
    /** struct sockaddr_un: sa_family_t sun_family (2 bytes), char sun_path[108]. */
    private static final int SUN_PATH_OFFSET = 2;
    private static final int SUN_PATH_SIZE = 108;

    private static final LibcCall SOCKET = LibcCall.of("socket");
    private static final LibcCall BIND = LibcCall.of("bind");
    private static final LibcCall LISTEN = LibcCall.of("listen");
    private static final LibcCall CLOSE = LibcCall.of("close");
    private static final LibcCall DUP2 = LibcCall.of("dup2");

    private UnixListener() {}

    /** A bound, listening socket fd (close-on-exec, non-blocking); throws with errno in {@link BindException#errno}. */
    static int listen(Path path) throws IOException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_SIZE) {
            throw new IOException("socket path too long (" + p.length + " bytes): " + path);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = LibcCall.errnoState(arena);
            MemorySegment addr = arena.allocate(SUN_PATH_OFFSET + SUN_PATH_SIZE, 2); // zeroed: sun_path ends in NUL
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(p, 0, addr, JAVA_BYTE, SUN_PATH_OFFSET, p.length);
            int fd = (int) SOCKET.call(errno, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd < 0) {
                throw new IOException("socket: errno " + LibcCall.errno(errno));
            }
            if ((int) BIND.call(errno, fd, addr.address(), SUN_PATH_OFFSET + p.length + 1) != 0) {
                int e = LibcCall.errno(errno);
                close(fd);
                throw new BindException(e, "bind " + path + ": errno " + e);
            }
            if ((int) LISTEN.call(errno, fd, 4096) != 0) {
                int e = LibcCall.errno(errno);
                close(fd);
                throw new IOException("listen " + path + ": errno " + e);
            }
            return fd;
        }
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            CLOSE.call(LibcCall.errnoState(arena), fd);
        }
    }

    static void dup2(int oldfd, int newfd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = LibcCall.errnoState(arena);
            if ((int) DUP2.call(errno, oldfd, newfd) < 0) {
                throw new IOException("dup2: errno " + LibcCall.errno(errno));
            }
        }
    }

    static final class BindException extends IOException {
        final int errno;

        BindException(int errno, String message) {
            super(message);
            this.errno = errno;
        }
    }
}
