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

    /** Sends {@code data} bytes, with {@code passed} as SCM_RIGHTS unless it is negative. */
    void send(String data, int passed) throws ErrnoException {
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
            if (passed >= 0) {
                MemorySegment control = arena.allocate(24, 8); // CMSG_SPACE(sizeof(int))
                control.set(JAVA_LONG, 0, 20); // CMSG_LEN(sizeof(int))
                control.set(JAVA_INT, 8, 1); // SOL_SOCKET
                control.set(JAVA_INT, 12, 1); // SCM_RIGHTS
                control.set(JAVA_INT, 16, passed);
                msg.set(JAVA_LONG, 32, control.address());
                msg.set(JAVA_LONG, 40, 24);
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
