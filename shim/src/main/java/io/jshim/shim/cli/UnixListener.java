package io.jshim.shim.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;

/**
 * A listening unix socket made with plain libc calls, so that {@code start} can hand its file descriptor to the
 * daemon as fd 3 without loading Netty (the daemon adopts it; containerd's first call waits in the backlog).
 */
public final class UnixListener {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    static final int EADDRINUSE = 98;

    public interface C {
        @SaveError
        int socket(int domain, int type, int protocol);

        @SaveError
        int bind(int fd, @In byte[] addr, int len);

        @SaveError
        int listen(int fd, int backlog);

        int close(int fd);

        @SaveError
        int dup2(int oldfd, int newfd);
    }

    private static final C LIBC = LibraryLoader.create(C.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private UnixListener() {}

    /** A bound, listening socket fd (close-on-exec); throws with errno in {@link BindException#errno}. */
    static int listen(Path path) throws IOException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) {
            throw new IOException("socket path too long (" + p.length + " bytes): " + path);
        }
        byte[] addr = new byte[2 + 108];
        addr[0] = (byte) AF_UNIX; // sa_family_t, little-endian
        System.arraycopy(p, 0, addr, 2, p.length);
        int fd = LIBC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket: errno " + RUNTIME.getLastError());
        }
        if (LIBC.bind(fd, addr, 2 + p.length + 1) != 0) {
            int errno = RUNTIME.getLastError();
            LIBC.close(fd);
            throw new BindException(errno, "bind " + path + ": errno " + errno);
        }
        if (LIBC.listen(fd, 4096) != 0) {
            int errno = RUNTIME.getLastError();
            LIBC.close(fd);
            throw new IOException("listen " + path + ": errno " + errno);
        }
        return fd;
    }

    static void close(int fd) {
        LIBC.close(fd);
    }

    static void dup2(int oldfd, int newfd) throws IOException {
        if (LIBC.dup2(oldfd, newfd) < 0) {
            throw new IOException("dup2: errno " + RUNTIME.getLastError());
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
