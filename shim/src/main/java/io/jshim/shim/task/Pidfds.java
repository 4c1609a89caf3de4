package io.jshim.shim.task;

import io.jshim.reaper.NoSuchProcessException;
import io.jshim.reaper.Pidfd;
import io.jshim.reaper.Subscription;
import io.jshim.shim.process.TaskProcess;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the pidfd of a process whose pid runc's pid file just named, for the exit coordinator. The pid may have
 * been reaped, and even reused, before the open: so once the pidfd is open, this waits until every exit reaped so
 * far has reached the coordinator ({@link Subscription#awaitDelivered}), after which the coordinator's start watch
 * tells whether the pid had exited (then the pidfd may name another process and must be dropped).
 */
final class Pidfds {
    private static final Logger log = LoggerFactory.getLogger(Pidfds.class);
    /** How long to wait for the exits already reaped to reach the coordinator (microseconds, usually). */
    static final Duration BARRIER_LIMIT = Duration.ofSeconds(10);

    /** Opens a pidfd: {@link Pidfd#open}, or a fake in tests. */
    @FunctionalInterface
    interface Opener {
        Pidfd open(int pid) throws IOException;
    }

    /** A pidfd opened (null: none to be had or trusted) and whether the pid was found already reaped. */
    record Opened(Pidfd fd, boolean reaped) {}

    private final Opener opener;
    /** The coordinator's subscription to the reaper; null until attached (and in tests). */
    private volatile Subscription subscription;

    Pidfds(Opener opener) {
        this.opener = opener;
    }

    void attach(Subscription exitSubscription) {
        this.subscription = exitSubscription;
    }

    /** Opens {@code p}'s pidfd and returns once every exit reaped before the open has reached the coordinator. */
    Opened open(TaskProcess p, int pid) {
        Pidfd fd;
        try {
            fd = opener.open(pid);
        } catch (NoSuchProcessException e) {
            return new Opened(null, true);
        } catch (IOException e) {
            log.warn("[{} {}] no pidfd for pid {}, signals go by pid: {}", p.container().id(),
                    p.execId() == null ? "" : p.execId(), pid, e.getMessage());
            return new Opened(null, false);
        }
        Subscription s = subscription;
        if (fd == null || s == null) {
            return new Opened(fd, false);
        }
        boolean caughtUp = false;
        try {
            caughtUp = s.awaitDelivered(BARRIER_LIMIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!caughtUp) {
            log.warn("[{} {}] exits not delivered within {}: pid {} is signalled by number", p.container().id(),
                    p.execId() == null ? "" : p.execId(), BARRIER_LIMIT, pid);
            fd.close();
            return new Opened(null, false);
        }
        return new Opened(fd, false);
    }
}
