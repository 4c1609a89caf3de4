package io.jshim.reaper;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One platform thread that lives as long as the process and performs the spawns that ask for a
 * parent-death signal. PR_SET_PDEATHSIG fires when the *thread* that created the child exits, not
 * the process: a child spawned from a request thread, a pool thread that times out, or a virtual
 * thread's carrier would be SIGKILLed as soon as that thread ended. Spawns from this thread are
 * killed only when the process dies.
 */
final class SpawnerThread {
    /** Thread-safe on its own. */
    private final LinkedBlockingQueue<FutureTask<?>> tasks = new LinkedBlockingQueue<>();

    SpawnerThread() {
        Thread thread = Thread.ofPlatform().name("jshim-spawner").daemon(true).unstarted(this::loop);
        thread.start();
    }

    private void loop() {
        while (true) {
            try {
                tasks.take().run(); // FutureTask captures every Throwable: this loop never ends
            } catch (InterruptedException e) {
                // Nobody but us may stop this thread: its death would kill our children.
            }
        }
    }

    /** Runs {@code spawn} on the spawner thread and waits for it, uninterruptibly (a spawn is short). */
    <T> T call(Callable<T> spawn) throws IOException {
        FutureTask<T> task = new FutureTask<>(spawn);
        tasks.add(task);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case IOException io -> throw io;
                        case RuntimeException re -> throw re;
                        case Error err -> throw err;
                        default -> throw new IOException(e.getCause());
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
