package io.jshim.shim.standby;

import io.jshim.reaper.LibcCall;
import io.jshim.reaper.Posix;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A copy of another process's fd, taken with pidfd_getfd(2) (Linux 5.6; same uid and ptrace access): how the
 * standby gets the group socket the launcher bound, so the socket is the very one a cold daemon would serve (the
 * launcher's perl, without modules, cannot pass an fd over a unix socket: no SCM_RIGHTS).
 */
final class TakenFd {
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_PIDFD_GETFD = 438;
    private static final LibcCall SYSCALL = LibcCall.of("syscall");

    private TakenFd() {}

    /** Our copy (close-on-exec) of fd {@code fd} of process {@code pid}. */
    static int take(int pid, int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = LibcCall.errnoState(arena);
            int pidfd = (int) SYSCALL.call(errno, SYS_PIDFD_OPEN, pid, 0);
            if (pidfd < 0) {
                throw new IOException("pidfd_open(" + pid + "): " + Posix.errnoName(LibcCall.errno(errno)));
            }
            try {
                int ours = (int) SYSCALL.call(errno, SYS_PIDFD_GETFD, pidfd, fd, 0);
                if (ours < 0) {
                    throw new IOException("pidfd_getfd(" + pid + ", " + fd + "): "
                            + Posix.errnoName(LibcCall.errno(errno)));
                }
                return ours;
            } finally {
                Posix.close(pidfd);
            }
        }
    }

    /** What fd {@code fd} of this process is, as /proc shows it ({@code socket:[123]}, a path...). */
    static String describe(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "";
        }
    }
}
