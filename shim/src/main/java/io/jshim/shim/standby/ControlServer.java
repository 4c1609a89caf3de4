package io.jshim.shim.standby;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jshim.reaper.LibcCall;
import io.jshim.reaper.Posix;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standby's private control socket (0600, in a 0700 directory; peers of our own uid only): each connection
 * brings one handover message, which goes whole to {@code requests}; one that stops short (the sender closed, or
 * said nothing more within {@link #MESSAGE_TIMEOUT_MS}) or grows past {@link #MAX_MESSAGE} is logged and dropped.
 * One platform thread ({@code standby-control}) accepts and reads every connection in a poll(2) loop, so a sender
 * that stalls delays no other; the standby's main thread answers each request.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_MESSAGE = 1 << 20;
    static final long MESSAGE_TIMEOUT_MS = 2_000;
    /** Connections read at once; more wait in the listen backlog until one is done (only starts connect). */
    private static final int MAX_READING = 16;
    private static final int BACKLOG = 64;
    private static final int READ_CHUNK = 64 * 1024;
    private static final long JOIN_MS = 5_000;
    private static final short POLLIN = 1;
    private static final int EINTR = 4;
    private static final LibcCall POLL = LibcCall.of("poll");

    /** A whole message from {@code peerPid}, to be answered on its connection. */
    record Request(Connection connection, int peerPid, byte[] message) {
        /** Writes {@code line} and a newline, then closes the connection; nothing if it is closed already. */
        void answer(String line) {
            connection.answer(line);
        }
    }

    /** An accepted connection's fd, closed exactly once whoever gets there first (an answer or {@link #close}). */
    static final class Connection {
        private final AtomicInteger fd;

        private Connection(int fd) {
            this.fd = new AtomicInteger(fd);
        }

        private void answer(String line) {
            int f = fd.getAndSet(-1);
            if (f < 0) {
                return; // closed by close(keep): that start saw the end of the stream and boots its own daemon
            }
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.US_ASCII);
            try {
                UnixSocket.sendFully(f, bytes, 0, bytes.length); // a few bytes into an empty socket buffer
            } catch (IOException e) {
                log.warn("standby: cannot answer '{}': {}", line, e.getMessage());
            } finally {
                UnixSocket.close(f);
            }
        }

        private void close() {
            UnixSocket.close(fd.getAndSet(-1));
        }
    }

    private final Path path;
    private final int listener;
    /** The read and write ends of a pipe: a byte written wakes the thread out of its poll to stop. */
    private final int[] wake;
    private final BlockingQueue<Request> requests;
    private final int euid = Posix.geteuid();
    private final Thread thread;
    /** Set before the wake-up byte; read by the thread after each poll. */
    private volatile boolean stopping;
    /** Guards closed and handedOver (the connections given to {@code requests}, maybe not answered yet). */
    private final Object lock = new Object();
    private boolean closed;
    private final List<Connection> handedOver = new ArrayList<>();

    private ControlServer(Path path, int listener, int[] wake, BlockingQueue<Request> requests) {
        this.path = path;
        this.listener = listener;
        this.wake = wake;
        this.requests = requests;
        this.thread = Thread.ofPlatform().name("standby-control").daemon(true).unstarted(this::serve);
    }

    static ControlServer bind(Path path, BlockingQueue<Request> requests) throws IOException {
        Path dir = path.getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(path); // a dead standby's: the launcher boots one only under its lock
        int[] wake = Posix.pipe();
        int fd = -1;
        try {
            fd = UnixSocket.listen(path.toString(), BACKLOG);
            UnixSocket.setNonBlocking(fd, true); // accept until nobody waits, never blocking the loop
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            Posix.close(wake[0]);
            Posix.close(wake[1]);
            Files.deleteIfExists(path);
            throw e;
        }
        ControlServer server = new ControlServer(path, fd, wake, requests);
        server.thread.start();
        return server;
    }

    @Override
    public void close() {
        close(null);
    }

    /**
     * Stops listening, removes the socket file (no start finds this standby any more) and closes every connection
     * but {@code keep}'s: a start whose message is still on its way sees the end of the stream and boots its own
     * daemon at once, rather than waiting out its bound (after which it would kill what it takes for a silent
     * standby, and is by then a daemon).
     */
    void close(Request keep) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stopping = true;
        try {
            Posix.write(wake[1], new byte[] {1}, 0, 1);
        } catch (IOException e) {
            log.warn("standby: cannot wake the control thread: {}", e.getMessage());
        }
        boolean stopped = join();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("standby: cannot remove {}: {}", path, e.toString());
        }
        List<Connection> others;
        synchronized (lock) {
            others = List.copyOf(handedOver);
            handedOver.clear();
        }
        for (Connection c : others) {
            if (keep == null || c != keep.connection()) {
                c.close();
            }
        }
        if (stopped) {
            UnixSocket.close(listener);
            Posix.close(wake[0]);
            Posix.close(wake[1]);
        } else {
            log.error("standby: the control thread did not stop within {} ms; its fds stay open", JOIN_MS);
        }
    }

    private boolean join() {
        try {
            thread.join(JOIN_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    /** The thread: accept, check the peer, read each connection until its message is whole, dropped or gone. */
    private void serve() {
        Reader[] readers = new Reader[MAX_READING];
        int count = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfds = arena.allocate(8L * (2 + MAX_READING), 4); // struct pollfd: int fd, events, revents
            MemorySegment errno = LibcCall.errnoState(arena);
            MemorySegment chunk = arena.allocate(READ_CHUNK);
            while (!stopping) {
                long now = System.nanoTime();
                long timeout = -1;
                for (int i = count - 1; i >= 0; i--) {
                    long left = readers[i].deadline - now;
                    if (left <= 0) {
                        readers[i].drop("no whole message within " + MESSAGE_TIMEOUT_MS + " ms");
                        readers[i] = readers[--count];
                        readers[count] = null;
                    } else {
                        long ms = (left + 999_999) / 1_000_000;
                        timeout = timeout < 0 ? ms : Math.min(timeout, ms);
                    }
                }
                setPollFd(pollfds, 0, wake[0]);
                setPollFd(pollfds, 1, count < MAX_READING ? listener : -1); // full: the rest wait in the backlog
                for (int i = 0; i < count; i++) {
                    setPollFd(pollfds, 2 + i, readers[i].connection.fd.get());
                }
                int n = (int) POLL.call(errno, pollfds.address(), 2 + count, timeout);
                if (n < 0 && LibcCall.errno(errno) != EINTR) {
                    throw new IOException("poll: " + Posix.errnoName(LibcCall.errno(errno)));
                }
                if (n <= 0 || stopping) {
                    continue;
                }
                // downwards: a finished reader takes the last one's place, which was already looked at
                for (int i = count - 1; i >= 0; i--) {
                    if (revents(pollfds, 2 + i) != 0 && readers[i].read(chunk)) {
                        readers[i] = readers[--count];
                        readers[count] = null;
                    }
                }
                if (revents(pollfds, 1) != 0) {
                    count = accept(readers, count);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.error("standby: the control socket's thread failed; no handover can reach this standby", e);
        } finally {
            for (int i = 0; i < count; i++) {
                readers[i].connection.close();
            }
        }
    }

    private int accept(Reader[] readers, int count) throws IOException {
        while (count < MAX_READING) {
            int fd = UnixSocket.accept(listener);
            if (fd < 0) {
                return count;
            }
            Connection c = new Connection(fd);
            UnixSocket.Credentials peer;
            try {
                peer = UnixSocket.peerCredentials(fd);
            } catch (IOException e) {
                log.warn("standby: refused a connection whose peer is unknown: {}", e.getMessage());
                c.close();
                continue;
            }
            if (peer.uid() != euid) {
                log.warn("standby: refused a connection from pid {} uid {} (only uid {} may hand over)",
                        peer.pid(), peer.uid(), euid);
                c.close();
                continue;
            }
            readers[count++] = new Reader(c, peer.pid(), System.nanoTime() + MESSAGE_TIMEOUT_MS * 1_000_000);
        }
        return count;
    }

    private static void setPollFd(MemorySegment pollfds, int index, int fd) {
        pollfds.set(JAVA_INT, index * 8L, fd);
        pollfds.set(JAVA_SHORT, index * 8L + 4, POLLIN);
        pollfds.set(JAVA_SHORT, index * 8L + 6, (short) 0);
    }

    private static short revents(MemorySegment pollfds, int index) {
        return pollfds.get(JAVA_SHORT, index * 8L + 6);
    }

    /** Gathers one connection's message; only the control thread touches it. */
    private final class Reader {
        final Connection connection;
        final int peerPid;
        final long deadline;
        private byte[] message = new byte[4096];
        private int length;

        Reader(Connection connection, int peerPid, long deadline) {
            this.connection = connection;
            this.peerPid = peerPid;
            this.deadline = deadline;
        }

        /** One recv; whether this connection is done here (its message queued, or dropped and closed). */
        boolean read(MemorySegment chunk) {
            long n;
            try {
                n = UnixSocket.recv(connection.fd.get(), chunk, 0, chunk.byteSize());
            } catch (IOException e) {
                drop(e.getMessage());
                return true;
            }
            if (n == 0) {
                log.warn("standby: partial handover from pid {} ({} bytes, then the connection closed): not adopted",
                        peerPid, length);
                connection.close();
                return true;
            }
            if (n < 0) {
                return false; // nothing after all
            }
            if (length + n > MAX_MESSAGE) {
                drop("message larger than " + MAX_MESSAGE + " bytes");
                return true;
            }
            if (length + n > message.length) {
                byte[] grown = new byte[(int) Math.max(length + n, 2L * message.length)];
                System.arraycopy(message, 0, grown, 0, length);
                message = grown;
            }
            MemorySegment.copy(chunk, JAVA_BYTE, 0, message, length, (int) n);
            length += (int) n;
            if (!Handover.complete(message, length)) {
                return false;
            }
            byte[] whole = new byte[length];
            System.arraycopy(message, 0, whole, 0, length);
            Request request = new Request(connection, peerPid, whole);
            synchronized (lock) {
                if (closed) {
                    connection.close();
                    return true;
                }
                handedOver.add(connection);
            }
            requests.add(request);
            return true;
        }

        void drop(String why) {
            log.warn("standby: handover from pid {} dropped ({} bytes read): {}; not adopted", peerPid, length, why);
            connection.close();
        }
    }
}
