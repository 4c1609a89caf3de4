package io.jshim.ttrpc;

import io.jshim.reaper.Posix;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket and its accept thread, which waits in poll(2) on the socket and on a wake pipe, accepts, and
 * hands each connection's fd on.
 *
 * <p>Why poll and a pipe rather than a blocking accept woken by shutdown(2): an adopted socket may be shared with
 * the process that handed it over (the launcher, a standby taking it with pidfd_getfd), and shutdown acts on the
 * socket, not on our fd: it would stop that process's listening too. The listening fd is non-blocking, so an
 * accept that lost the connection to another holder of the socket returns at once (EAGAIN) instead of hanging.
 *
 * <p>The fd is closed by the accept thread as it ends, never by another thread, so poll and accept never run on a
 * closed (maybe reused) fd number.
 */
final class Listener {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);

    private final int fd;
    /** The socket file to remove at the end (bound here), or null (adopted: its owner removes it). */
    private final Path ownPath;
    /** Its inode when bound: a file at that path with another inode is someone else's socket, left alone. */
    private final Object ownInode;
    /** {read end, write end}: a byte written wakes the accept thread to stop. */
    private final int[] wake;
    /** Set once by close(); guarded by this for writes (with thread), volatile for the accept loop. */
    private volatile boolean closed;
    /** The accept thread once started; guarded by this. */
    private Thread thread;

    private Listener(int fd, Path ownPath, Object ownInode) throws IOException {
        this.fd = fd;
        this.ownPath = ownPath;
        this.ownInode = ownInode;
        this.wake = Posix.pipe();
    }

    /** Binds and listens on {@code path} (which must not exist), owner-only (0600). */
    static Listener bind(Path path) throws IOException {
        int fd = UnixSocket.listen(path.toString(), 128);
        try {
            // chmod, not umask: the umask is process-wide, and another thread may be creating files meanwhile.
            Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            UnixSocket.setNonBlocking(fd, true);
            return new Listener(fd, path, Files.getAttribute(path, "unix:ino"));
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /** Serves {@code fd}, already bound and listening; made non-blocking (see the class comment). */
    static Listener adopt(int fd) throws IOException {
        UnixSocket.setNonBlocking(fd, true);
        return new Listener(fd, null, null);
    }

    /** Starts the accept thread; {@code onAccepted} gets each connection's fd (blocking, close-on-exec). */
    void start(IntConsumer onAccepted) {
        synchronized (this) {
            if (!closed) {
                thread = Thread.ofPlatform().name("ttrpc-accept").daemon(true).unstarted(() -> acceptLoop(onAccepted));
                thread.start();
                return;
            }
        }
        release(); // closed before it started
    }

    private void acceptLoop(IntConsumer onAccepted) {
        try {
            while (!closed) {
                int ready = UnixSocket.pollIn(fd, wake[0], -1);
                if (closed || (ready & 2) != 0) {
                    break;
                }
                int connection;
                try {
                    connection = UnixSocket.accept(fd);
                } catch (IOException e) {
                    // ECONNABORTED, EMFILE...: this connection is lost, the socket still serves. A pause so that
                    // a lasting failure (out of fds) does not spin.
                    log.warn("accept on fd {} failed: {}", fd, e.getMessage());
                    UnixSocket.pollIn(wake[0], 100);
                    continue;
                }
                if (connection >= 0) { // -1: another holder of the socket took it
                    onAccepted.accept(connection);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                log.warn("listening socket fd {} failed; no longer accepting", fd, e);
            }
        } finally {
            release();
        }
    }

    /** Closes the socket and the pipe, removes the own file: once, by the accept thread or instead of it. */
    private void release() {
        UnixSocket.close(fd);
        Posix.close(wake[0]);
        Posix.close(wake[1]);
        removeOwnFile();
    }

    private void removeOwnFile() {
        if (ownPath == null) {
            return;
        }
        try {
            if (ownInode.equals(Files.getAttribute(ownPath, "unix:ino"))) {
                Files.deleteIfExists(ownPath);
            }
        } catch (IOException gone) {
            // removed already
        }
    }

    /** Stops accepting; the thread closes the socket (and removes its own file) as it ends. Idempotent. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (thread == null) {
                return; // not started: start() releases it
            }
        }
        try {
            Posix.write(wake[1], new byte[1], 0, 1);
        } catch (IOException e) {
            log.debug("waking the accept thread: {}", e.toString());
        }
    }

    /** Waits up to {@code millis} for the accept thread to have ended. */
    void awaitClosed(long millis) {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
