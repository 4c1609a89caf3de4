package io.jshim.shim.process;

import io.jshim.stdio.ProcessIO;
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
 * pid, status and exit and is held only for the few instructions that read or change them.
 */
public abstract sealed class Process permits InitProcess, ExecProcess {
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
    /** Set once the stdio is prepared (Create, exec Start); read by IO calls without a lock. */
    private volatile ProcessIO io;

    Process(String id, StdioSpec stdio, ProcessStatus initial) {
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
        }
        exited.complete(exitStatus);
        return true;
    }

    /**
     * An exec whose start failed never ran: Wait must not hang on it (the reference closes its wait channel
     * too). It stays Created; Wait reports 255 rather than a made-up success.
     */
    public void markNeverStarted(ExitStatus failed) {
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
