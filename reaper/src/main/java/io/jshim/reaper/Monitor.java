package io.jshim.reaper;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a command to completion and collects its output: how runc is called.
 *
 * <p>The caller's thread only waits (on futures, so a virtual thread is fine); the pipes are
 * moved by an {@link OutputPump} on a pooled platform thread ("jshim-monitor-io"), because
 * a blocking poll(2) (a native call) would pin a virtual thread's carrier for the whole command.
 *
 * <p>When the command's own exit has been seen, its output is read until end of file for at most
 * {@code drainAfterExit}: a descendant that outlives the command and keeps the pipes open (a
 * daemon, or a container started with runc's stdio) would otherwise hold {@code run} forever.
 * Output written after that is lost (logged as a warning).
 */
public final class Monitor {
    private static final Logger log = LoggerFactory.getLogger(Monitor.class);
    public static final Duration DEFAULT_DRAIN_AFTER_EXIT = Duration.ofMillis(500);

    /** Idle threads die after 60 s; one thread per command running at once. */
    private static final ExecutorService IO = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("jshim-monitor-io-", 0).daemon(true).factory());

    private final Reaper reaper;
    private final Duration drainAfterExit;

    public Monitor(Reaper reaper) {
        this(reaper, DEFAULT_DRAIN_AFTER_EXIT);
    }

    public Monitor(Reaper reaper, Duration drainAfterExit) {
        this.reaper = Objects.requireNonNull(reaper, "reaper");
        this.drainAfterExit = Objects.requireNonNull(drainAfterExit, "drainAfterExit");
    }

    /**
     * Spawns {@code spec}, feeds it {@code stdin}, captures its stdout and stderr in full (both at
     * once) and waits for its exit.
     *
     * <p>Standard fds: {@code stdin} null means /dev/null, unless the spec maps child fd 0, which
     * is then passed through (giving both is an error). stdout and stderr are captured unless the
     * spec maps child fd 1 or 2: a mapped one is passed through and its captured bytes are empty.
     * Other fds mapped in the spec (3+) are passed through.
     *
     * @throws TimeoutException     the command did not exit within {@code timeout}: it has been SIGKILLed
     *                              (it is still reaped, and its exit still reaches subscribers)
     * @throws InterruptedException the caller was interrupted: the command has been SIGKILLed
     * @throws IOException          the spawn failed (e.g. ENOENT) or a pipe failed
     */
    public CommandResult run(SpawnSpec spec, byte[] stdin, Duration timeout)
            throws IOException, TimeoutException, InterruptedException {
        Objects.requireNonNull(spec, "spec");
        long deadline = System.nanoTime() + timeout.toNanos();
        if (stdin != null && spec.fds().containsKey(0)) {
            throw new IllegalArgumentException("stdin bytes given and child fd 0 mapped: " + spec);
        }
        int[] in = stdin != null ? Posix.pipe() : null;
        int[] out = spec.fds().containsKey(1) ? null : pipeClosingOnFailure(in);
        int[] err = spec.fds().containsKey(2) ? null : pipeClosingOnFailure(in, out);
        SpawnSpec wired = spec;
        if (in != null) {
            wired = wired.withFd(0, in[0]);
        }
        if (out != null) {
            wired = wired.withFd(1, out[1]);
        }
        if (err != null) {
            wired = wired.withFd(2, err[1]);
        }
        OutputPump pump;
        Child child;
        try {
            pump = new OutputPump(out == null ? -1 : out[0], err == null ? -1 : err[0], in == null ? -1 : in[1], stdin);
        } catch (IOException e) {
            closeAll(in, out, err);
            throw e;
        }
        try {
            child = reaper.spawn(wired);
        } catch (IOException | RuntimeException e) {
            pump.closeAll();
            throw e;
        } finally {
            // The child has its copies; ours must go, or we would never see EOF.
            Posix.close(in == null ? -1 : in[0]);
            Posix.close(out == null ? -1 : out[1]);
            Posix.close(err == null ? -1 : err[1]);
        }
        CompletableFuture<Void> pumped = CompletableFuture.runAsync(() -> {
            try {
                pump.run();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, IO);
        try {
            Exit exit = awaitExit(child, spec, timeout, deadline);
            awaitOutput(pumped, spec, Math.min(drainAfterExit.toNanos(), Math.max(0, deadline - System.nanoTime())));
            pump.stop();
            finish(pumped);
            return new CommandResult(exit, pump.stdout(), pump.stderr());
        } finally {
            pump.stop();
            pumped.exceptionally(t -> null).join(); // stop() makes it return promptly
        }
    }

    private static Exit awaitExit(Child child, SpawnSpec spec, Duration timeout, long deadline)
            throws TimeoutException, InterruptedException, IOException {
        try {
            return child.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            child.kill(Posix.SIGKILL);
            throw new TimeoutException(spec.commandLine() + " (pid " + child.pid() + ") did not exit within "
                    + timeout + "; killed with SIGKILL");
        } catch (InterruptedException e) {
            child.kill(Posix.SIGKILL);
            throw e;
        } catch (ExecutionException e) {
            throw new IllegalStateException("exit futures never fail", e);
        }
    }

    private void awaitOutput(CompletableFuture<Void> pumped, SpawnSpec spec, long nanos)
            throws InterruptedException {
        try {
            pumped.get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("{} exited but its output pipes are still open (held by a descendant?); "
                    + "returning the output read so far", spec.commandLine());
        } catch (ExecutionException e) {
            // reported by finish()
        }
    }

    private static void finish(CompletableFuture<Void> pumped) throws IOException {
        try {
            pumped.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException io) {
                throw io.getCause();
            }
            throw e;
        }
    }

    private static int[] pipeClosingOnFailure(int[]... opened) throws IOException {
        try {
            return Posix.pipe();
        } catch (IOException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static void closeAll(int[]... pipes) {
        for (int[] p : pipes) {
            if (p != null) {
                Posix.close(p[0]);
                Posix.close(p[1]);
            }
        }
    }
}
