package io.jshim.ttrpc;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * fcntl(2) through the FFM API, for the one thing Netty cannot do: make an inherited listening
 * fd non-blocking before epoll drives it (a blocking accept would stall the I/O thread).
 * Loaded only when a socket is adopted, and linked only when that socket is still blocking: the launcher's
 * cold start hands one over non-blocking already, and linking a downcall costs a cold JVM milliseconds.
 */
final class Fcntl {
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    static final int O_NONBLOCK = 0x800;

    private static final class Linked {
        /** int fcntl(int fd, int cmd, ...) called with one variadic int (ignored by F_GETFL). */
        static final MethodHandle FCNTL;

        static {
            Linker linker = Linker.nativeLinker();
            FCNTL = linker.downcallHandle(linker.defaultLookup().find("fcntl").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT),
                    Linker.Option.firstVariadicArg(2));
        }
    }

    private Fcntl() {
    }

    static int getFlags(int fd) throws IOException {
        int flags;
        try {
            flags = (int) Linked.FCNTL.invokeExact(fd, F_GETFL, 0);
        } catch (Throwable t) {
            throw new IOException("fcntl(" + fd + ", F_GETFL)", t);
        }
        if (flags < 0) {
            throw new IOException("fcntl(" + fd + ", F_GETFL) failed: not an open fd?");
        }
        return flags;
    }

    static void setFlags(int fd, int flags) throws IOException {
        int rc;
        try {
            rc = (int) Linked.FCNTL.invokeExact(fd, F_SETFL, flags);
        } catch (Throwable t) {
            throw new IOException("fcntl(" + fd + ", F_SETFL)", t);
        }
        if (rc < 0) {
            throw new IOException("fcntl(" + fd + ", F_SETFL) failed");
        }
    }

    static void setNonBlocking(int fd) throws IOException {
        if (fdInfoSaysNonBlocking(fd)) {
            return;
        }
        int flags = getFlags(fd);
        if ((flags & O_NONBLOCK) == 0) {
            setFlags(fd, flags | O_NONBLOCK);
        }
    }

    /** The {@code flags:} line of /proc/self/fdinfo/FD (octal open flags); false when it cannot be read. */
    static boolean fdInfoSaysNonBlocking(int fd) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/fdinfo/" + fd))) {
                if (line.startsWith("flags:")) {
                    return (Integer.parseInt(line.substring("flags:".length()).trim(), 8) & O_NONBLOCK) != 0;
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // fcntl decides
        }
        return false;
    }
}
