package io.jshim.ttrpc;

import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
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
 */
final class Listener implements IoLoop.Channel {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);

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
        loop.execute(() -> {
            if (released) {
                return;
            }
            try {
                loop.register(fd, IoLoop.EPOLLIN, this);
            } catch (IOException e) {
                log.warn("cannot watch listening fd {}: {}", fd, e.toString());
                closeNow(e);
            }
        });
    }

    @Override
    public void onReady(int events) {
        while (!released) {
            int connection;
            try {
                connection = UnixSocket.accept(fd);
            } catch (IOException e) {
                // ECONNABORTED, EMFILE...: this connection is lost; the socket still serves.
                log.warn("accept on fd {} failed: {}", fd, e.getMessage());
                return;
            }
            if (connection < 0) {
                return; // none waiting (or another holder of the socket took it)
            }
            onAccepted.accept(connection);
        }
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
