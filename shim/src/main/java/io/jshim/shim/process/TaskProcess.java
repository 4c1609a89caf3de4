package io.jshim.shim.process;

import io.jshim.reaper.NoSuchProcessException;
import io.jshim.reaper.Pidfd;
import io.jshim.reaper.Posix;
import io.jshim.stdio.ProcessIO;
import java.io.IOException;
import io.jshim.stdio.StdioSpec;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A process in a container, the init or an exec.
 *
 * <p>Locks: {@link #lifecycle} serialises this process's lifecycle calls (start, delete, pause, resume,
 * update, checkpoint) and is held across runc; only another lifecycle call on the same process waits for it.
 * State, Pids, Kill, Wait and exit handling never take it. The process's own monitor ({@code this}) guards
 * pid, status, exit and the pidfd and is held only for the few instructions that read or change them (and
 * across the enqueue of the TaskExit, a memory operation, see {@link #commitExit}).
 */
public abstract sealed class TaskProcess permits InitProcess, ExecProcess {
    private final String id;
    private final StdioSpec stdio;
    final ReentrantLock lifecycle = new ReentrantLock();
    private final CompletableFuture<ExitStatus> exited = new CompletableFuture<>();

    /** Guarded by {@code this}. */
    private int pid;
    /** Guarded by {@code this}. */
    private ProcessStatus status;
    /** Guarded by {@code this}. */
    private ExitStatus exit;
    /** Guarded by {@code this}: names the process from when its pid is known until its exit is committed; null without. */
    private Pidfd pidfd;
    /** Guarded by {@code this}: the pid had already been reaped when its pidfd was to be opened (its exit is coming). */
    private boolean reapedEarly;
    /** Set once the stdio is prepared (Create, exec Start); read by IO calls without a lock. */
    private volatile ProcessIO io;

    TaskProcess(String id, StdioSpec stdio, ProcessStatus initial) {
        this.id = id;
        this.stdio = stdio;
        this.status = initial;
    }

    /** The process id: the container id for the init, the exec id for an exec. */
    public String id() {
        return id;
    }

    public abstract boolean isInit();

    public abstract Container container();

    /** The exec id, or null for the init. */
    public String execId() {
        return isInit() ? null : id;
    }

    public StdioSpec stdio() {
        return stdio;
    }

    public ReentrantLock lifecycleLock() {
        return lifecycle;
    }

    public synchronized int pid() {
        return pid;
    }

    public synchronized void setPid(int pid) {
        this.pid = pid;
    }

    /**
     * Holds {@code fd} (may be null: no pidfds here, or none could be trusted) as this process's pidfd until its
     * exit is committed; {@code reaped}: the pid was found already reaped, so signals answer "gone".
     */
    public void holdPidfd(Pidfd fd, boolean reaped) {
        synchronized (this) {
            if (exit == null && status != ProcessStatus.DELETED) {
                pidfd = fd;
                reapedEarly = reaped;
                return;
            }
        }
        if (fd != null) {
            fd.close(); // exited or deleted meanwhile
        }
    }

    /** Closes the pidfd, if any: the exit is recorded, or the process will never be signalled again. */
    public synchronized void releasePidfd() {
        if (pidfd != null) {
            pidfd.close();
            pidfd = null;
        }
    }

    /**
     * Sends {@code signal} unless the process has exited: through its pidfd, so never to another process that
     * reused the pid; by pid only where there is no pidfd (a kernel without them). False when it is gone.
     */
    public boolean signal(int signal) throws IOException {
        Pidfd fd;
        int target;
        synchronized (this) {
            if (exit != null || reapedEarly || pid <= 0) {
                return false;
            }
            fd = pidfd;
            target = pid;
        }
        if (fd != null) {
            return fd.signal(signal); // false also when closed meanwhile by the exit's commit
        }
        try {
            Posix.kill(target, signal);
            return true;
        } catch (NoSuchProcessException e) {
            return false;
        }
    }

    /** Whether signals go through a pidfd (false before the pid is known and where there are none). */
    public synchronized boolean hasPidfd() {
        return pidfd != null;
    }

    public synchronized ProcessStatus status() {
        return status;
    }

    /** Moves to {@code next} unless the process has meanwhile exited or been deleted; returns whether it moved. */
    public synchronized boolean advance(ProcessStatus expected, ProcessStatus next) {
        if (status != expected) {
            return false;
        }
        status = next;
        return true;
    }

    public synchronized void setDeleted() {
        status = ProcessStatus.DELETED;
        releasePidfd();
    }

    public synchronized Optional<ExitStatus> exit() {
        return Optional.ofNullable(exit);
    }

    /**
     * The commit point of an exit, called only by the exit coordinator: {@code enqueue} (which queues the
     * TaskExit) runs under this process's monitor in the same step that records the exit, so State, Delete and
     * Kill, which read the exit under that monitor, and Wait, woken only after it, never see an exit whose TaskExit
     * is not yet queued. Once only: a second call does nothing and returns false.
     */
    public boolean commitExit(ExitStatus exitStatus, Runnable enqueue) {
        synchronized (this) {
            if (exit != null) {
                return false;
            }
            enqueue.run();
            exit = exitStatus;
            if (status != ProcessStatus.DELETED) {
                status = ProcessStatus.STOPPED;
            }
            releasePidfd();
        }
        exited.complete(exitStatus);
        return true;
    }

    /**
     * An exec whose start failed never ran: Wait must not hang on it (the reference closes its wait channel
     * too). It stays Created; Wait reports 255 rather than a made-up success.
     */
    public void markNeverStarted(ExitStatus failed) {
        releasePidfd();
        exited.complete(failed);
    }

    public CompletableFuture<ExitStatus> onExit() {
        return exited;
    }

    public ExitStatus awaitExit() throws InterruptedException {
        try {
            return exited.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    public Optional<ExitStatus> awaitExit(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(exited.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    public ProcessIO io() {
        return io;
    }

    public void setIo(ProcessIO io) {
        this.io = io;
    }

    @Override
    public String toString() {
        return isInit() ? "init " + id : "exec " + id;
    }
}
