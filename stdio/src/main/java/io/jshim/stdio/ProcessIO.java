package io.jshim.stdio;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stdio of one container process (init or exec), as containerd's runc shim sets it up
 * (containerd {@code cmd/containerd-shim-runc-v2/process/io.go}); {@link IoEnds} holds what is opened before runc runs.
 *
 * <p>Life cycle: {@link #prepare} before {@code runc create/exec} (pipes, fifos, files, console
 * socket, logging binary), {@link #start} after it returned (close our copies of the child's
 * ends, receive the pty master, start copying), {@link #drained} to wait for the output after the
 * process exited, {@link #close} at delete. {@link #close} is valid in every state.
 *
 * <p>Threads: one platform thread per copied stream, named {@code io-<container>-<stream>}
 * ({@code io-<container>-<exec>-<stream>} for an exec), 256 KiB stacks, each parked in poll(2):
 * fifo/file IO uses one per non-empty stream (at most 3), a terminal 2 (stdin to master, master
 * to stdout), binary:// none (the logger reads the pipes itself) plus stdin/console ones for a
 * terminal. The console socket has no thread: {@link #start}'s caller accepts and receives the master in poll(2).
 *
 * <p>Locking: the fields marked "guarded by this" change only under the monitor, which is never
 * held across a wait for another process or thread (console receive, joins, logger stop).
 */
public final class ProcessIO implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessIO.class);
    private static final Duration COPIER_JOIN_TIMEOUT = Duration.ofSeconds(5);

    private enum State { PREPARED, STARTING, STARTED, CLOSED }

    private final IoContext ctx;
    private final IoEnds ends;
    private final String label;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final AtomicInteger outputsRunning = new AtomicInteger();

    // All guarded by this, as are the fields of ends. The Fds here are owned by this object; close() releases
    // whatever is still here.
    private State state = State.PREPARED;
    private Fd stdinHold;
    private boolean stdinClosed;
    private Console console;
    private final List<Thread> copiers = new ArrayList<>();

    private ProcessIO(StdioSpec spec, IoContext ctx, IoTarget target) {
        this.ctx = ctx;
        this.ends = new IoEnds(spec, ctx, target);
        this.label = ctx.label();
    }

    /**
     * Prepares the IO before runc runs: validates the scheme, creates the OS pipes (chowned to
     * ioUid/ioGid, only for non-empty streams) or the console socket, opens the fifos/files and
     * starts a binary:// logger (waiting for its ready signal).
     *
     * @throws StdioSchemeException "unknown STDIO scheme x" (an IOException, as the runc shim returns a plain error)
     * @throws IOException          a path that cannot be opened (the message names it), a logger that fails; nothing stays open
     */
    public static ProcessIO prepare(StdioSpec spec, IoContext ctx) throws IOException {
        IoTarget target = IoTarget.of(spec);
        ProcessIO io = new ProcessIO(spec, ctx, target);
        try {
            synchronized (io) {
                io.ends.open();
            }
            return io;
        } catch (IOException | RuntimeException | Error e) {
            io.close();
            throw e;
        }
    }

    /**
     * The fds runc must get as its 0, 1 and 2 (child fd to our fd). Streams that are absent map to
     * /dev/null. Empty for a terminal or null IO: then runc gets /dev/null for all three.
     * Valid until {@link #start} (which closes our copies).
     */
    public synchronized Map<Integer, Integer> runcFds() {
        return ends.runcFds;
    }

    /** For a terminal: the socket path to pass as {@code runc --console-socket}. */
    public synchronized Optional<Path> consoleSocket() {
        return Optional.ofNullable(ends.consolePath);
    }

    /**
     * Call after {@code runc create/exec} returned successfully: closes our copies of the child's
     * ends, receives the pty master (terminal; IOException after {@code consoleTimeout}), opens
     * the stdin fifo write end held for CloseIO, and starts copying. If it throws, call
     * {@link #close}.
     */
    public void start(Duration consoleTimeout) throws IOException {
        ConsoleSocket socket;
        synchronized (this) {
            if (state != State.PREPARED) {
                throw new IllegalStateException("start() called when " + state + " (" + label + ")");
            }
            state = State.STARTING;
            ends.stdinPipeRead = IoEnds.closeAndForget(ends.stdinPipeRead);
            ends.stdoutPipeWrite = IoEnds.closeAndForget(ends.stdoutPipeWrite);
            ends.stderrPipeWrite = IoEnds.closeAndForget(ends.stderrPipeWrite);
            ends.devNull = IoEnds.closeAndForget(ends.devNull);
            socket = ends.consoleSocket;
        }
        int masterFd = socket == null ? -1 : socket.awaitMaster(consoleTimeout);
        try {
            synchronized (this) {
                if (state == State.CLOSED) {
                    throw new IOException("IO of " + label + " closed while starting");
                }
                if (masterFd >= 0) {
                    Fd master = new Fd(masterFd, "pty master");
                    masterFd = -1;
                    try {
                        console = new Console(master);
                    } catch (ErrnoException e) {
                        master.close();
                        throw e;
                    }
                }
                if (ends.stdinFifo != null && ends.stdinIsFifo && !stdinClosed) {
                    // Through /proc/self/fd: the same fifo even if its path was replaced. Cannot
                    // block or fail with ENXIO: we hold a read end.
                    stdinHold = new Fd(StdioNative.open("/proc/self/fd/" + ends.stdinFifo.get(),
                            StdioNative.O_WRONLY | StdioNative.O_NONBLOCK, 0), "stdin fifo (held writer)");
                }
                if (console != null) {
                    startConsoleCopiers();
                } else {
                    startPipeCopiers();
                }
                state = State.STARTED;
            }
        } finally {
            StdioNative.close(masterFd);
            if (socket != null) {
                socket.close();
            }
        }
    }

    private void startPipeCopiers() throws IOException {
        boolean copyOut = ends.stdoutPipeRead != null && ends.stdoutSink != null;
        boolean copyErr = ends.stderrPipeRead != null && ends.stderrSink != null;
        outputsRunning.set((copyOut ? 1 : 0) + (copyErr ? 1 : 0));
        if (copyOut) {
            StdioNative.setNonBlocking(ends.stdoutPipeRead.get(), true);
            spawn("stdout", ends.stdoutPipeRead, true, ends.stdoutSink, null, false, this::outputDone);
            ends.stdoutPipeRead = null;
            ends.stdoutSink = null;
        }
        if (copyErr) {
            StdioNative.setNonBlocking(ends.stderrPipeRead.get(), true);
            spawn("stderr", ends.stderrPipeRead, true, ends.stderrSink, null, false, this::outputDone);
            ends.stderrPipeRead = null;
            ends.stderrSink = null;
        }
        if (ends.stdinFifo != null && ends.stdinPipeWrite != null) {
            // At EOF (CloseIO and the client closed) the copier closes the process's stdin.
            Sink in = new PipeSink(ends.stdinPipeWrite, true, "stdin pipe of " + label, true);
            ends.stdinPipeWrite = null;
            spawn("stdin", ends.stdinFifo, true, in, null, true, () -> { });
            ends.stdinFifo = null;
        }
        if (!copyOut && !copyErr) {
            drained.complete(null);
        }
    }

    private void startConsoleCopiers() throws IOException {
        Console cons = console;
        Wakeup hang = ends.hangup;
        Wakeup halt = ends.stop;
        outputsRunning.set(1);
        spawn("stdout", cons.master(), false, ends.stdoutSink, hang, false, () -> {
            if (hang.isSignalled()) {
                cons.close();
            }
            outputDone();
        });
        ends.stdoutSink = null;
        if (ends.stdinFifo != null) {
            // As the runc shim: when stdin ends (CloseIO), the console is released, which hangs
            // up the terminal; the output copier first takes what is readable.
            Sink in = new PipeSink(cons.master(), false, "pty master of " + label, true);
            spawn("stdin", ends.stdinFifo, true, in, null, true, () -> {
                if (!halt.isSignalled()) {
                    hang.signal();
                }
            });
            ends.stdinFifo = null;
        }
    }

    private void spawn(String stream, Fd source, boolean closeSource, Sink sink, Wakeup drain,
                       boolean stopOnSinkFailure, Runnable onDone) {
        Copier copier = new Copier(ctx.threadName(stream), source, closeSource, sink, ends.stop, drain,
                stopOnSinkFailure, onDone, ctx.tally(), StdioTally.STREAMS.indexOf(stream));
        copiers.add(copier.start());
    }

    private void outputDone() {
        if (outputsRunning.decrementAndGet() == 0) {
            drained.complete(null);
        }
    }

    /**
     * CloseIO: closes the held stdin write end, so the copier sees EOF once the client closes
     * its end too, and the process's stdin then gets EOF (a terminal is hung up instead).
     */
    public void closeStdin() {
        Fd hold;
        synchronized (this) {
            stdinClosed = true;
            hold = stdinHold;
            stdinHold = null;
        }
        if (hold != null) {
            hold.close();
        }
    }

    /** ResizePty: TIOCSWINSZ on the master; a no-op without a terminal (or once it is closed). */
    public void resize(int width, int height) throws IOException {
        Console c;
        synchronized (this) {
            c = console;
        }
        if (c != null) {
            c.resize(height, width);
        }
    }

    /**
     * Completes when every output stream reached EOF and everything read was written out (or
     * dropped by a failing sink), or when the IO is closed. With binary:// and no terminal the
     * logger reads the process's pipes itself, so there is nothing to wait for: complete at start.
     */
    public CompletableFuture<Void> drained() {
        return drained.copy();
    }

    /**
     * Closes everything: stops the copiers (whatever they have not copied is lost: wait for
     * {@link #drained} first), closes fifos, pipes, the master and the console socket file, and
     * stops a binary:// logger (SIGTERM, SIGKILL after the stop timeout, 12 s by default; this
     * call waits for it). Idempotent.
     */
    @Override
    public void close() {
        List<Thread> threads;
        Wakeup halt;
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            threads = List.copyOf(copiers);
            halt = ends.stop;
        }
        if (halt != null) {
            halt.signal();
        }
        boolean stopped = join(threads);
        List<AutoCloseable> toClose = new ArrayList<>();
        List<Sink> toRelease = new ArrayList<>();
        ConsoleSocket socket;
        LoggerProcess log;
        synchronized (this) {
            toClose.addAll(Arrays.asList(stdinHold, ends.stdinFifo, ends.stdinPipeRead, ends.stdinPipeWrite,
                    ends.stdoutPipeRead, ends.stdoutPipeWrite, ends.stderrPipeRead, ends.stderrPipeWrite,
                    ends.devNull, console));
            toRelease.addAll(Arrays.asList(ends.stdoutSink, ends.stderrSink));
            stdinHold = ends.stdinFifo = ends.stdinPipeRead = ends.stdinPipeWrite = null;
            ends.stdoutPipeRead = ends.stdoutPipeWrite = ends.stderrPipeRead = ends.stderrPipeWrite = null;
            ends.devNull = null;
            ends.stdoutSink = ends.stderrSink = null;
            socket = ends.consoleSocket;
            ends.consoleSocket = null;
            log = ends.logger;
            ends.logger = null;
            if (stopped) {
                toClose.add(ends.stop);
                toClose.add(ends.hangup);
            } else {
                LOG.error("IO copiers of {} did not stop within {}; leaving their wakeup fds open", label,
                        COPIER_JOIN_TIMEOUT);
            }
        }
        for (AutoCloseable c : toClose) {
            closeQuietly(c);
        }
        for (Sink s : toRelease) {
            if (s != null) {
                s.release();
            }
        }
        if (socket != null) {
            socket.close();
        }
        if (log != null) {
            log.stop(ctx.loggerStopTimeout());
        }
        drained.complete(null);
    }

    private boolean join(List<Thread> threads) {
        long deadline = System.nanoTime() + COPIER_JOIN_TIMEOUT.toNanos();
        boolean interrupted = false;
        boolean all = true;
        for (Thread t : threads) {
            while (t.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    all = false;
                    break;
                }
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return all;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.debug("closing {}: {}", c, e.toString());
        }
    }

    // For tests.

    synchronized int loggerPid() {
        return ends.logger == null ? -1 : ends.logger.pid();
    }

    synchronized List<Thread> copierThreads() {
        return List.copyOf(copiers);
    }
}
