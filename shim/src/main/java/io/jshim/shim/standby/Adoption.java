package io.jshim.shim.standby;

import io.jshim.reaper.LibcCall;
import io.jshim.reaper.Posix;
import io.jshim.reaper.ProcessEnvironment;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A standby becoming the daemon of a handed-over group, in two steps: {@link #prepare} checks everything and takes
 * what can be given back (the group socket, the log fifo) without changing this process; {@link #commit} then
 * makes it what a daemon booted by that start would be (working directory, stderr, environment for children, CPU
 * policy). A refused handover leaves the standby as it was, waiting for the next.
 */
final class Adoption {
    private static final LibcCall CHDIR = LibcCall.of("chdir");
    private static final LibcCall DUP2 = LibcCall.of("dup2");

    private final Handover handover;
    private final int socketFd;
    private final int logFd;

    private Adoption(Handover handover, int socketFd, int logFd) {
        this.handover = handover;
        this.socketFd = socketFd;
        this.logFd = logFd;
    }

    /** The refusal reason as an exception's message; nothing of this process has changed then. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * @param containerdAddress the address this standby was booted for: it serves no other containerd
     */
    static Adoption prepare(Handover h, int peerPid, String containerdAddress) throws Refused {
        if (!h.address().equals(containerdAddress)) {
            throw new Refused("booted for containerd " + containerdAddress + ", not " + h.address());
        }
        String ourCgroup = read(Path.of("/proc/self/cgroup"));
        String theirs = read(Path.of("/proc/" + peerPid + "/cgroup"));
        if (!ourCgroup.equals(theirs)) {
            throw new Refused("the start (pid " + peerPid + ") runs in other cgroups than this standby");
        }
        if (!Files.isDirectory(h.bundle())) {
            throw new Refused("no bundle directory " + h.bundle());
        }
        int socket;
        try {
            socket = TakenFd.take(peerPid, h.fd());
        } catch (IOException e) {
            throw new Refused("cannot take the group socket: " + e.getMessage());
        }
        int log = -1;
        try {
            if (!GroupSocket.isListening(socket, h.socket())) {
                throw new Refused("fd " + h.fd() + " of pid " + peerPid + " is not a socket listening on "
                        + h.socket());
            }
            Path fifo = h.bundle().resolve("log");
            if (Posix.isFifo(fifo.toString())) {
                // non-blocking: with no reader (containerd opened it before start ran) the open fails, not hangs
                log = Posix.open(fifo.toString(), Posix.O_WRONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
                Posix.setNonBlocking(log, false);
            }
            return new Adoption(h, socket, log);
        } catch (IOException | Refused e) {
            Posix.close(socket);
            Posix.close(log);
            throw e instanceof Refused r ? r : new Refused("cannot open the bundle's log fifo: " + e.getMessage());
        }
    }

    /** From here on this process is the group's daemon; returns the listening socket's fd. */
    int commit() throws IOException {
        ProcessEnvironment.adopt(handover.env());
        try (Arena arena = Arena.ofConfined()) {
            var errno = LibcCall.errnoState(arena);
            try (Arena path = Arena.ofConfined()) {
                if (CHDIR.call(errno, path.allocateFrom(handover.bundle().toString()).address()) != 0) {
                    throw new IOException("chdir " + handover.bundle() + ": " + Posix.errnoName(LibcCall.errno(errno)));
                }
            }
            // the bundle's log fifo, which containerd reads, is stderr before this life's first log line
            int target = logFd >= 0 ? logFd : Posix.open("/dev/null", Posix.O_WRONLY | Posix.O_CLOEXEC, 0);
            if (DUP2.call(errno, target, 2) < 0) {
                throw new IOException("dup2 onto stderr: " + Posix.errnoName(LibcCall.errno(errno)));
            }
            Posix.close(target);
        }
        Scheduling.normal();
        return socketFd;
    }

    Handover handover() {
        return handover;
    }

    private static String read(Path file) throws Refused {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new Refused("cannot read " + file + ": " + e.getMessage());
        }
    }
}
