package io.jshim.shim.cli;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A listening unix socket made with plain libc calls (FFM API), so that {@code start} can hand its file descriptor
 * to the daemon as fd 3 without loading Netty (the daemon adopts it; containerd's first call waits in the backlog).
 * Each call that can fail captures errno right after it returns ({@code captureCallState}).
 */
public final class UnixListener {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    static final int EADDRINUSE = 98;
    /** struct sockaddr_un: sa_family_t sun_family (2 bytes), char sun_path[108]. */
    private static final int SUN_PATH_OFFSET = 2;
    private static final int SUN_PATH_SIZE = 108;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = libc("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = libc("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle DUP2 = libc("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private UnixListener() {}

    /** A bound, listening socket fd (close-on-exec); throws with errno in {@link BindException#errno}. */
    static int listen(Path path) throws IOException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_SIZE) {
            throw new IOException("socket path too long (" + p.length + " bytes): " + path);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(ERRNO_STATE);
            MemorySegment addr = arena.allocate(SUN_PATH_OFFSET + SUN_PATH_SIZE, 2); // zeroed: sun_path ends in NUL
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(p, 0, addr, JAVA_BYTE, SUN_PATH_OFFSET, p.length);
            int fd = (int) SOCKET.invokeExact(errno, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("socket: errno " + errno(errno));
            }
            if ((int) BIND.invokeExact(errno, fd, addr, SUN_PATH_OFFSET + p.length + 1) != 0) {
                int e = errno(errno);
                close(fd);
                throw new BindException(e, "bind " + path + ": errno " + e);
            }
            if ((int) LISTEN.invokeExact(errno, fd, 4096) != 0) {
                int e = errno(errno);
                close(fd);
                throw new IOException("listen " + path + ": errno " + e);
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(ERRNO_STATE), fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    static void dup2(int oldfd, int newfd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(ERRNO_STATE);
            if ((int) DUP2.invokeExact(errno, oldfd, newfd) < 0) {
                throw new IOException("dup2: errno " + errno(errno));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static final class BindException extends IOException {
        final int errno;

        BindException(int errno, String message) {
            super(message);
            this.errno = errno;
        }
    }
}
