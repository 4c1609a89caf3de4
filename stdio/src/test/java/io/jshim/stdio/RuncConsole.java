package io.jshim.stdio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jshim.reaper.LibcCall;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** runc's side of {@code --console-socket} (utils.SendFile): connect, one sendmsg of the pty name and the fd. */
final class RuncConsole implements AutoCloseable {
    private static final LibcCall SENDMSG = LibcCall.of("sendmsg");

    private final int fd;

    private RuncConsole(int fd) {
        this.fd = fd;
    }

    /** A connection to the console socket at {@code path}. */
    static RuncConsole connect(Path path) throws IOException {
        return new RuncConsole(UnixSocket.connect(path.toString(), 0));
    }

    /** Sends {@code data} bytes, with {@code passed} as SCM_RIGHTS (none: data alone). */
    void send(String data, int... passed) throws ErrnoException {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = LibcCall.errnoState(arena);
            MemorySegment buf = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE, 0, bytes.length);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(JAVA_LONG, 0, buf.address());
            iov.set(JAVA_LONG, 8, bytes.length);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(JAVA_LONG, 16, iov.address());
            msg.set(JAVA_LONG, 24, 1);
            if (passed.length > 0) {
                long length = 16 + 4L * passed.length; // CMSG_LEN
                long space = (length + 7) & ~7L; // CMSG_SPACE
                MemorySegment control = arena.allocate(space, 8);
                control.set(JAVA_LONG, 0, length);
                control.set(JAVA_INT, 8, 1); // SOL_SOCKET
                control.set(JAVA_INT, 12, 1); // SCM_RIGHTS
                for (int i = 0; i < passed.length; i++) {
                    control.set(JAVA_INT, 16 + 4L * i, passed[i]);
                }
                msg.set(JAVA_LONG, 32, control.address());
                msg.set(JAVA_LONG, 40, space);
            }
            if (SENDMSG.call(errno, fd, msg.address(), 0) < 0) {
                throw new ErrnoException("sendmsg", LibcCall.errno(errno));
            }
        }
    }

    @Override
    public void close() {
        StdioNative.close(fd);
    }

    /** What runc does: connect, send the master with its name, close the connection and its copy of the master. */
    static void sendMaster(Path socket, int master) throws IOException {
        try (RuncConsole c = connect(socket)) {
            c.send("/dev/pts/0", master);
        } finally {
            StdioNative.close(master);
        }
    }
}
