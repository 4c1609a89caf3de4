package io.jshim.ttrpc;

import io.jshim.reaper.PosixException;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket on the {@link IoLoop}: when it is readable the loop accepts every waiting connection and hands
 * each fd on.
 *
 * <p>The fd is non-blocking: an adopted socket may be shared with the process that handed it over (the launcher, a
 * standby taking it with pidfd_getfd), and an accept that lost the connection to another holder returns at once
 * (EAGAIN) instead of hanging the loop. It is closed on the loop thread, never by another thread.
 *
 * <p>Out of fds: when accept4 fails for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) the waiting connection
 * stays queued and the socket stays readable, so a level-triggered loop would retry it at once, forever, at 100%
 * CPU. Instead the listener leaves the loop and comes back after a pause ({@link Timers}): 100 ms, doubled while
 * accepts keep failing, at most 1 s, back to 100 ms once a connection is accepted. Other connections are served
 * meanwhile. The episode ends when no connection waits any more; one WARN then says how many accepts were
 * refused (a server at its limit, accepting one connection each time another closes, does not log each).
 */
final class Listener implements IoLoop.Channel {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);
    private static final long FIRST_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 1_000;
    private static final int ENOMEM = 12;
    private static final int ENFILE = 23;
    private static final int EMFILE = 24;
    private static final int ENOBUFS = 105;

    private final IoLoop loop;
    private final int fd;
    /** The socket file to remove at the end (bound here), or null (adopted: its owner removes it). */
    private final Path ownPath;
    /** Its inode when bound: a file at that path with another inode is someone else's socket, left alone. */
    private final Object ownInode;
    private IntConsumer onAccepted;
    /** Loop thread only. */
    private boolean released;
    private final CountDownLatch closed = new CountDownLatch(1);

    // The episode of refused accepts under way; loop thread only.
    /** accept4 calls refused with a connection waiting, this episode; 0: none under way. */
    private int refused;
    /** The last pause; 0 when none since a connection was accepted or the episode ended. */
    private long backoffMillis;
    private long episodeStartNanos;
    /** The errno that started the episode, for its log line. */
    private String episodeErrno;
    /** The pending return to the loop while out of it, or null. */
    private ScheduledFuture<?> rearm;

    private Listener(IoLoop loop, int fd, Path ownPath, Object ownInode) {
        this.loop = loop;
        this.fd = fd;
        this.ownPath = ownPath;
        this.ownInode = ownInode;
    }

    /** Binds and listens on {@code path} (which must not exist), owner-only (0600). */
    static Listener bind(IoLoop loop, Path path) throws IOException {
        int fd = UnixSocket.listen(path.toString(), 128);
        try {
            // chmod, not umask: the umask is process-wide, and another thread may be creating files meanwhile.
            Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            UnixSocket.setNonBlocking(fd, true);
            return new Listener(loop, fd, path, Files.getAttribute(path, "unix:ino"));
        } catch (IOException | RuntimeException e) {
            UnixSocket.close(fd);
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /** Serves {@code fd}, already bound and listening; made non-blocking (see the class comment). */
    static Listener adopt(IoLoop loop, int fd) throws IOException {
        UnixSocket.setNonBlocking(fd, true);
        return new Listener(loop, fd, null, null);
    }

    /** Starts accepting; {@code onAccepted} gets each connection's fd (close-on-exec), on the loop thread. */
    void start(IntConsumer onAccepted) {
        this.onAccepted = onAccepted;
        loop.execute(this::watch);
    }

    /** Loop thread: has the loop watch the socket (unless closed meanwhile). */
    private void watch() {
        if (released) {
            return;
        }
        try {
            loop.register(fd, IoLoop.EPOLLIN, this);
        } catch (IOException e) {
            log.warn("cannot watch listening fd {}: {}", fd, e.toString());
            closeNow(e);
        }
    }

    @Override
    public void onReady(int events) {
        while (!released && rearm == null) {
            int connection;
            try {
                connection = UnixSocket.accept(fd);
            } catch (IOException e) {
                if (e instanceof PosixException p && outOfResources(p.errno())) {
                    refusedFor(p);
                    return;
                }
                // ECONNABORTED, EPROTO...: this connection is lost; the socket still serves.
                log.warn("accept on fd {} failed: {}", fd, e.getMessage());
                return;
            }
            if (connection < 0) {
                caughtUp();
                return; // none waiting (or another holder of the socket took it)
            }
            backoffMillis = 0;
            onAccepted.accept(connection);
        }
    }

    private static boolean outOfResources(int errno) {
        return errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
    }

    /**
     * Loop thread: accept4 failed for want of fds or memory. Linux takes the fd number before it looks for a
     * connection, so this comes with nobody waiting too; then the socket is not readable and there is nothing to
     * pause for.
     */
    private void refusedFor(PosixException e) {
        boolean waiting;
        try {
            waiting = UnixSocket.pollIn(fd, 0);
        } catch (IOException pollFailed) {
            waiting = true; // pausing costs a delay at worst; not pausing could spin
        }
        if (waiting) {
            pause(e);
        } else {
            caughtUp();
        }
    }

    /** Loop thread: a connection waits and could not be taken; leaves the loop for the next pause. */
    private void pause(PosixException e) {
        if (refused++ == 0) {
            episodeStartNanos = System.nanoTime();
            episodeErrno = e.errnoName();
            log.debug("accept on fd {} refused ({}): pausing accepts", fd, e.getMessage());
        }
        backoffMillis = backoffMillis == 0 ? FIRST_BACKOFF_MILLIS : Math.min(2 * backoffMillis, MAX_BACKOFF_MILLIS);
        // Out of epoll, not just EPOLLIN off: a hang-up or error on the socket is reported whatever was asked for.
        loop.deregister(fd);
        rearm = Timers.shared().schedule(() -> loop.execute(this::resume), backoffMillis, TimeUnit.MILLISECONDS);
    }

    /** Loop thread, after a pause: watches the socket again; a connection still waiting makes it readable at once. */
    private void resume() {
        rearm = null;
        watch();
    }

    /** Loop thread: no connection waits now; an episode of refusals under way ends. */
    private void caughtUp() {
        if (refused == 0) {
            return;
        }
        log.warn("accept on fd {} refused {} times over {} ms ({}: out of file descriptors or memory); every waiting "
                + "connection now accepted", fd, refused,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - episodeStartNanos), episodeErrno);
        refused = 0;
        backoffMillis = 0;
    }

    /**
     * Stops accepting and closes the socket (removing its own file), from any thread, and waits (up to 5 s) until
     * it is closed: a connect after this returns is refused. Idempotent.
     */
    void close() {
        loop.execute(() -> closeNow(null));
        awaitClosed(5_000);
    }

    @Override
    public void closeNow(Throwable cause) {
        if (released) {
            return;
        }
        released = true;
        if (rearm != null) {
            rearm.cancel(false);
            rearm = null;
        }
        loop.deregister(fd);
        UnixSocket.close(fd);
        removeOwnFile();
        closed.countDown();
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

    /** Waits up to {@code millis} for the socket to be closed (at once on the loop thread, which closes it). */
    void awaitClosed(long millis) {
        loop.awaitOffLoop(closed, millis);
    }
}
