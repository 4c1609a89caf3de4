package io.jshim.stdio;

import io.jshim.reaper.LibcCall;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unix socket given to {@code runc --console-socket}: runc connects and sends the pty master with SCM_RIGHTS.
 * No thread of its own: {@link #awaitMaster} (the thread starting the process, once runc returned) accepts and
 * receives in one poll(2) loop, over the listener, the connections accepted so far and a wakeup that
 * {@link #close} signals; only a virtual thread that would have to wait hands that loop to a platform thread.
 */
final class ConsoleSocket implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleSocket.class);
    private static final int MAX_SUN_PATH = 107;
    /** Connections that have not sent an fd yet, at most: one more drops the oldest. Only runc should connect. */
    private static final int MAX_PENDING = 4;
    private static final int BACKLOG = 4;
    /** How long {@link #close} waits for a thread in {@link #awaitMaster} to leave (it leaves at the wakeup). */
    private static final long LEAVE_WAIT_MS = 5_000;
    /** {@link #receive}: nothing is ready and the caller may not wait in poll. */
    private static final int WOULD_WAIT = -1;

    private final Path path;
    /** The listening socket; closed only by {@link #close}, once no thread polls it. */
    private final Fd listener;
    /** Signalled by {@link #close}: wakes {@link #awaitMaster} out of its poll. */
    private final Wakeup closing;
    /** Guards closed and waiting. Never held across a poll or a receive. */
    private final Object lock = new Object();
    private boolean closed;
    /** A thread is in {@link #awaitMaster}, using listener and closing: {@link #close} must not close them yet. */
    private boolean waiting;
    /**
     * Connections accepted that have not sent an fd yet; confined to the thread in {@link #awaitMaster} (and the
     * platform thread it hands its wait to, between that thread's start and its join), closed as it returns.
     */
    private final int[] pending = new int[MAX_PENDING];
    private int pendingCount;

    private ConsoleSocket(Path path, Fd listener, Wakeup closing) {
        this.path = path;
        this.listener = listener;
        this.closing = closing;
    }

    static ConsoleSocket listen(Path path) throws IOException {
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SUN_PATH) {
            throw new IOException("console socket path is longer than " + MAX_SUN_PATH + " bytes: " + path);
        }
        Wakeup closing = Wakeup.create("console socket wakeup");
        int fd = -1;
        try {
            fd = UnixSocket.listen(path.toString(), BACKLOG);
            UnixSocket.setNonBlocking(fd, true); // accept after poll never waits for a peer that went meanwhile
            return new ConsoleSocket(path, new Fd(fd, "console socket"), closing);
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            closing.close();
            throw new IOException("cannot listen on console socket " + path + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    /**
     * Waits for the master; the caller owns the returned fd (close-on-exec). Call once. runc has sent the master
     * before {@code runc create} returns, so it is normally taken at once; a wait beyond that happens in poll(2),
     * which on a virtual thread would hold its carrier: such a caller hands the wait to a short-lived platform
     * thread and parks until it ends.
     */
    int awaitMaster(Duration timeout) throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IOException("console socket " + path + " closed while receiving the pty master");
            }
            if (waiting) {
                throw new IllegalStateException("two threads wait for the pty master on " + path);
            }
            waiting = true;
        }
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean virtual = Thread.currentThread().isVirtual();
            int master = receive(deadline, timeout, !virtual);
            return master != WOULD_WAIT ? master : receiveOnPlatformThread(deadline, timeout);
        } finally {
            for (int i = 0; i < pendingCount; i++) {
                StdioNative.close(pending[i]);
            }
            pendingCount = 0;
            synchronized (lock) {
                waiting = false;
                lock.notifyAll();
            }
        }
    }

    private int receiveOnPlatformThread(long deadline, Duration timeout) throws IOException {
        Waiter waiter = new Waiter(deadline, timeout);
        Thread thread = Thread.ofPlatform().name("io-console-wait").daemon(true).stackSize(256 * 1024).start(waiter);
        boolean interrupted = false;
        while (true) {
            try {
                thread.join(); // not before it ends: it polls our fds (it ends at the deadline or at close)
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (waiter.failure != null) {
            throw waiter.failure;
        }
        return waiter.master;
    }

    /** The wait of a virtual thread's {@link #awaitMaster}, on a platform thread. */
    private final class Waiter implements Runnable {
        private final long deadline;
        private final Duration timeout;
        /** Written by the platform thread, read after its join. */
        int master = -1;
        IOException failure;

        Waiter(long deadline, Duration timeout) {
            this.deadline = deadline;
            this.timeout = timeout;
        }

        @Override
        public void run() {
            try {
                master = receive(deadline, timeout, true);
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException e) {
                failure = new IOException("receiving the pty master on " + path + " failed", e);
            }
        }
    }

    /**
     * Accepts connections and reads them until one brings an fd: the fd, or {@link #WOULD_WAIT} if {@code mayWait}
     * is false and nothing is ready now. Connections accepted stay in {@link #pending} for a later call.
     */
    private int receive(long deadline, Duration timeout, boolean mayWait) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(StdioNative.POLLFD_SIZE * (2 + MAX_PENDING));
            MemorySegment scratch = arena.allocate(ScmRights.SCRATCH_SIZE, 8);
            MemorySegment errno = LibcCall.errnoState(arena);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no pty master received on console socket " + path + " within " + timeout);
                }
                StdioNative.setPollFd(fds, 0, closing.fd(), StdioNative.POLLIN);
                StdioNative.setPollFd(fds, 1, listener.get(), StdioNative.POLLIN);
                for (int i = 0; i < pendingCount; i++) {
                    StdioNative.setPollFd(fds, 2 + i, pending[i], StdioNative.POLLIN);
                }
                int millis = mayWait ? (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000) : 0;
                int ready = StdioNative.poll(fds, 2 + pendingCount, millis);
                if (ready < 0 && ready != -StdioNative.EINTR) {
                    throw new ErrnoException("poll console socket " + path, -ready);
                }
                if (closing.isSignalled()) {
                    throw new IOException("console socket " + path + " closed while receiving the pty master");
                }
                if (ready == 0 && !mayWait) {
                    return WOULD_WAIT;
                }
                if (ready <= 0) {
                    continue;
                }
                // downwards: a dropped connection takes the last one's place, which was already looked at
                for (int i = pendingCount - 1; i >= 0; i--) {
                    if (StdioNative.revents(fds, 2 + i) == 0) {
                        continue;
                    }
                    int master = ScmRights.receive(pending[i], scratch, errno);
                    if (master >= 0) {
                        return master;
                    }
                    if (master == ScmRights.GONE) {
                        StdioNative.close(pending[i]);
                        pending[i] = pending[--pendingCount];
                    }
                }
                if (StdioNative.revents(fds, 1) != 0) {
                    accept();
                }
            }
        }
    }

    private void accept() throws IOException {
        int conn = UnixSocket.accept(listener.get()); // -1: none after all
        if (conn < 0) {
            return;
        }
        if (pendingCount == MAX_PENDING) {
            LOG.warn("console socket {}: {} connections sent no pty master; dropping the oldest", path, MAX_PENDING);
            StdioNative.close(pending[0]);
            System.arraycopy(pending, 1, pending, 0, --pendingCount);
        }
        pending[pendingCount++] = conn;
    }

    /**
     * Closes the socket and removes its file; a thread in {@link #awaitMaster} is woken and gets an IOException.
     * Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            closing.signal();
            long deadline = System.nanoTime() + LEAVE_WAIT_MS * 1_000_000;
            while (waiting) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    // never seen: the waiter leaves at its next poll. Leaking two fds beats closing them under it.
                    LOG.error("console socket {}: the thread receiving the pty master did not leave; its fds stay open",
                            path);
                    deleteFile();
                    return;
                }
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    LOG.warn("console socket {}: interrupted waiting for its receiver; its fds stay open", path);
                    deleteFile();
                    return;
                }
            }
        }
        listener.close();
        closing.close();
        deleteFile();
    }

    private void deleteFile() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove console socket {}: {}", path, e.getMessage());
        }
    }
}
