package io.jshim.reaper;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/** A process started by {@link Reaper#spawn}. */
public final class Child {
    private final int pid;
    private final CompletableFuture<Exit> exit;
    private final Reaper reaper;

    Child(int pid, CompletableFuture<Exit> exit, Reaper reaper) {
        this.pid = pid;
        this.exit = exit;
        this.reaper = reaper;
    }

    public int pid() {
        return pid;
    }

    /**
     * Completes with the child's exit once it has been reaped, also when the child died before
     * {@code spawn} returned. Never completes exceptionally. Completed on a virtual thread of its
     * own, so dependent stages never run on (or delay) the reaper thread.
     */
    public CompletableFuture<Exit> onExit() {
        return exit;
    }

    /**
     * Sends {@code signal} unless the child has already been reaped: safe against pid reuse, because
     * the check and the kill happen under the lock the reaper takes before it reaps this pid.
     *
     * @return true if the signal was sent, false if the child had already been reaped
     */
    public boolean kill(int signal) throws IOException {
        return reaper.signal(pid, exit, signal);
    }

    @Override
    public String toString() {
        return "Child[" + pid + (exit.isDone() ? ", exited " + exit.join().status() : "") + "]";
    }
}
