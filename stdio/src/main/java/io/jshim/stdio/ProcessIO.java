package io.jshim.stdio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stdio of one container process (init or exec), as the runc shim sets it up (reference-shim.md §5).
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
 * terminal. The console socket runs on a shared epoll event loop.
 *
 * <p>Locking: the fields marked "guarded by this" change only under the monitor, which is never
 * held across a wait for another process or thread (console receive, joins, logger stop).
 */
public final class ProcessIO implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessIO.class);
    private static final Duration COPIER_JOIN_TIMEOUT = Duration.ofSeconds(5);

    private enum State { PREPARED, STARTING, STARTED, CLOSED }

    private final StdioSpec spec;
    private final IoContext ctx;
    private final IoTarget target;
    private final String label;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final AtomicInteger outputsRunning = new AtomicInteger();

    // All guarded by this. Each Fd/Sink field is owned by this object until start() hands it to a
    // copier (and sets the field to null); close() releases whatever is still here.
    private State state = State.PREPARED;
    private Wakeup stop;
    private Wakeup hangup;
    private Fd stdinPipeRead;
    private Fd stdinPipeWrite;
    private Fd stdoutPipeRead;
    private Fd stdoutPipeWrite;
    private Fd stderrPipeRead;
    private Fd stderrPipeWrite;
    private Fd devNull;
    private Fd stdinFifo;
    private boolean stdinIsFifo;
    private Fd stdinHold;
    private boolean stdinClosed;
    private Sink stdoutSink;
    private Sink stderrSink;
    private ConsoleSocket consoleSocket;
    private Path consolePath;
    private Console console;
    private LoggerProcess logger;
    private Map<Integer, Integer> runcFds = Map.of();
    private final List<Thread> copiers = new ArrayList<>();

    private ProcessIO(StdioSpec spec, IoContext ctx, IoTarget target) {
        this.spec = spec;
        this.ctx = ctx;
        this.target = target;
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
                io.open();
            }
            return io;
        } catch (IOException | RuntimeException | Error e) {
            io.close();
            throw e;
        }
    }

    private void open() throws IOException {
        stop = Wakeup.create("stop");
        if (spec.terminal()) {
            openTerminal();
        } else {
            switch (target) {
                case IoTarget.Null n -> { }
                case IoTarget.Fifo f -> openFifos();
                case IoTarget.File f -> openFile(f);
                case IoTarget.Binary b -> openBinary(b);
            }
            runcFds = childFds();
        }
    }

    private void openFifos() throws IOException {
        createPipes(!spec.stdin().isEmpty(), !spec.stdout().isEmpty(), !spec.stderr().isEmpty());
        if (!spec.stdout().isEmpty()) {
            stdoutSink = openOutput("stdout", spec.stdout());
        }
        if (!spec.stderr().isEmpty()) {
            // A regular file named for both is one open file, closed after both writers finish.
            stderrSink = stdoutSink instanceof FileSink && spec.stderr().equals(spec.stdout())
                    ? stdoutSink.retain()
                    : openOutput("stderr", spec.stderr());
        }
        openStdinFifo();
    }

    private void openFile(IoTarget.File file) throws IOException {
        FileSink sink = createFile(file.path());
        try {
            createPipes(!spec.stdin().isEmpty(), !spec.stdout().isEmpty(), !spec.stderr().isEmpty());
            if (!spec.stdout().isEmpty()) {
                stdoutSink = sink.retain();
            }
            if (!spec.stderr().isEmpty()) {
                stderrSink = sink.retain();
            }
        } finally {
            sink.release();
        }
        openStdinFifo();
    }

    private FileSink createFile(String path) throws IOException {
        Path parent = Path.of(path).toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        try {
            return FileSink.open(path, true, "log file " + path + " of " + label);
        } catch (ErrnoException e) {
            throw new ErrnoException("opening log file " + path, e.errno());
        }
    }

    private void openBinary(IoTarget.Binary binary) throws IOException {
        // The runc shim gives no stdin to a process whose output goes to a logging binary.
        createPipes(false, true, true);
        logger = LoggerProcess.start(binary, ctx.loggerId(), ctx.namespace(), stdoutPipeRead, stderrPipeRead,
                ctx.reaper(), ctx.loggerReadyTimeout(), label);
        stdoutPipeRead = closeAndForget(stdoutPipeRead);
        stderrPipeRead = closeAndForget(stderrPipeRead);
    }

    private void openTerminal() throws IOException {
        hangup = Wakeup.create("hangup");
        consolePath = ctx.workDir().resolve("pty-" + HexFormat.of().formatHex(randomBytes(6)) + ".sock");
        consoleSocket = ConsoleSocket.listen(consolePath,
                ctx.consoleGroup() != null ? ctx.consoleGroup() : ConsoleLoop.shared());
        openStdinFifo();
        switch (target) {
            case IoTarget.Null n -> stdoutSink = new Sink.Discard("console output of " + label);
            case IoTarget.Fifo f -> stdoutSink = spec.stdout().isEmpty()
                    ? new Sink.Discard("console output of " + label)
                    : openOutput("stdout", spec.stdout());
            case IoTarget.File f -> stdoutSink = createFile(f.path());
            case IoTarget.Binary b -> {
                // With a terminal the logger gets the console output on fd 3; fd 4 stays empty.
                createPipes(false, true, true);
                logger = LoggerProcess.start(b, ctx.loggerId(), ctx.namespace(), stdoutPipeRead, stderrPipeRead,
                        ctx.reaper(), ctx.loggerReadyTimeout(), label);
                stdoutPipeRead = closeAndForget(stdoutPipeRead);
                stderrPipeRead = closeAndForget(stderrPipeRead);
                stderrPipeWrite = closeAndForget(stderrPipeWrite);
                stdoutSink = new PipeSink(stdoutPipeWrite, true, "logging binary stdout pipe of " + label, false);
                stdoutPipeWrite = null; // owned by the sink now
            }
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        Random.SOURCE.nextBytes(b);
        return b;
    }

    /** Made on first use: seeding it loads the security providers, ~10 ms that a container without a tty need not pay. */
    private static final class Random {
        static final SecureRandom SOURCE = new SecureRandom();
    }

    private void createPipes(boolean stdin, boolean stdout, boolean stderr) throws IOException {
        if (stdin) {
            int[] p = StdioNative.pipe();
            stdinPipeRead = new Fd(p[0], "stdin pipe (child end)");
            stdinPipeWrite = new Fd(p[1], "stdin pipe");
            StdioNative.fchown(p[0], ctx.ioUid(), ctx.ioGid());
        }
        if (stdout) {
            int[] p = StdioNative.pipe();
            stdoutPipeRead = new Fd(p[0], "stdout pipe");
            stdoutPipeWrite = new Fd(p[1], "stdout pipe (child end)");
            StdioNative.fchown(p[1], ctx.ioUid(), ctx.ioGid());
        }
        if (stderr) {
            int[] p = StdioNative.pipe();
            stderrPipeRead = new Fd(p[0], "stderr pipe");
            stderrPipeWrite = new Fd(p[1], "stderr pipe (child end)");
            StdioNative.fchown(p[1], ctx.ioUid(), ctx.ioGid());
        }
    }

    private Sink openOutput(String stream, String path) throws IOException {
        String description = stream + " " + path + " of " + label;
        try {
            return isFifo(path)
                    ? FifoSink.open(path, ctx.readerGoneGrace(), description)
                    : FileSink.open(path, false, description);
        } catch (ErrnoException e) {
            throw new ErrnoException("opening " + stream + " " + path, e.errno());
        }
    }

    private void openStdinFifo() throws IOException {
        if (spec.stdin().isEmpty()) {
            return;
        }
        stdinIsFifo = isFifo(spec.stdin());
        try {
            // O_NONBLOCK: never waits for the client's writer; the copier polls.
            stdinFifo = new Fd(StdioNative.open(spec.stdin(), StdioNative.O_RDONLY | StdioNative.O_NONBLOCK, 0),
                    "stdin " + spec.stdin());
        } catch (ErrnoException e) {
            throw new ErrnoException("opening stdin " + spec.stdin(), e.errno());
        }
    }

    static boolean isFifo(String path) {
        try {
            int mode = (Integer) Files.getAttribute(Path.of(path), "unix:mode");
            return (mode & 0170000) == 0010000;
        } catch (IOException | RuntimeException e) {
            return false; // missing: opened as a file below, whose ENOENT names the path
        }
    }

    private Map<Integer, Integer> childFds() throws IOException {
        if (target instanceof IoTarget.Null) {
            return Map.of();
        }
        Map<Integer, Integer> fds = new LinkedHashMap<>();
        fds.put(0, stdinPipeRead != null ? stdinPipeRead.get() : devNull());
        fds.put(1, stdoutPipeWrite != null ? stdoutPipeWrite.get() : devNull());
        fds.put(2, stderrPipeWrite != null ? stderrPipeWrite.get() : devNull());
        return Map.copyOf(fds);
    }

    private int devNull() throws ErrnoException {
        if (devNull == null) {
            devNull = new Fd(StdioNative.open("/dev/null", StdioNative.O_RDWR, 0), "/dev/null");
        }
        return devNull.get();
    }

    /**
     * The fds runc must get as its 0, 1 and 2 (child fd to our fd). Streams that are absent map to
     * /dev/null. Empty for a terminal or null IO: then runc gets /dev/null for all three.
     * Valid until {@link #start} (which closes our copies).
     */
    public synchronized Map<Integer, Integer> runcFds() {
        return runcFds;
    }

    /** For a terminal: the socket path to pass as {@code runc --console-socket}. */
    public synchronized Optional<Path> consoleSocket() {
        return Optional.ofNullable(consolePath);
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
            stdinPipeRead = closeAndForget(stdinPipeRead);
            stdoutPipeWrite = closeAndForget(stdoutPipeWrite);
            stderrPipeWrite = closeAndForget(stderrPipeWrite);
            devNull = closeAndForget(devNull);
            socket = consoleSocket;
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
                if (stdinFifo != null && stdinIsFifo && !stdinClosed) {
                    // Through /proc/self/fd: the same fifo even if its path was replaced. Cannot
                    // block or fail with ENXIO: we hold a read end.
                    stdinHold = new Fd(StdioNative.open("/proc/self/fd/" + stdinFifo.get(),
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
        boolean copyOut = stdoutPipeRead != null && stdoutSink != null;
        boolean copyErr = stderrPipeRead != null && stderrSink != null;
        outputsRunning.set((copyOut ? 1 : 0) + (copyErr ? 1 : 0));
        if (copyOut) {
            StdioNative.setNonBlocking(stdoutPipeRead.get(), true);
            spawn("stdout", stdoutPipeRead, true, stdoutSink, null, false, this::outputDone);
            stdoutPipeRead = null;
            stdoutSink = null;
        }
        if (copyErr) {
            StdioNative.setNonBlocking(stderrPipeRead.get(), true);
            spawn("stderr", stderrPipeRead, true, stderrSink, null, false, this::outputDone);
            stderrPipeRead = null;
            stderrSink = null;
        }
        if (stdinFifo != null && stdinPipeWrite != null) {
            // At EOF (CloseIO and the client closed) the copier closes the process's stdin.
            Sink in = new PipeSink(stdinPipeWrite, true, "stdin pipe of " + label, true);
            stdinPipeWrite = null;
            spawn("stdin", stdinFifo, true, in, null, true, () -> { });
            stdinFifo = null;
        }
        if (!copyOut && !copyErr) {
            drained.complete(null);
        }
    }

    private void startConsoleCopiers() throws IOException {
        Console cons = console;
        Wakeup hang = hangup;
        Wakeup halt = stop;
        outputsRunning.set(1);
        spawn("stdout", cons.master(), false, stdoutSink, hang, false, () -> {
            if (hang.isSignalled()) {
                cons.close();
            }
            outputDone();
        });
        stdoutSink = null;
        if (stdinFifo != null) {
            // As the runc shim: when stdin ends (CloseIO), the console is released, which hangs
            // up the terminal; the output copier first takes what is readable.
            Sink in = new PipeSink(cons.master(), false, "pty master of " + label, true);
            spawn("stdin", stdinFifo, true, in, null, true, () -> {
                if (!halt.isSignalled()) {
                    hang.signal();
                }
            });
            stdinFifo = null;
        }
    }

    private void spawn(String stream, Fd source, boolean closeSource, Sink sink, Wakeup drain,
                       boolean stopOnSinkFailure, Runnable onDone) {
        Copier copier = new Copier(ctx.threadName(stream), source, closeSource, sink, stop, drain,
                stopOnSinkFailure, onDone);
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
            halt = stop;
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
            toClose.addAll(Arrays.asList(stdinHold, stdinFifo, stdinPipeRead, stdinPipeWrite,
                    stdoutPipeRead, stdoutPipeWrite, stderrPipeRead, stderrPipeWrite, devNull, console));
            toRelease.addAll(Arrays.asList(stdoutSink, stderrSink));
            stdinHold = stdinFifo = stdinPipeRead = stdinPipeWrite = null;
            stdoutPipeRead = stdoutPipeWrite = stderrPipeRead = stderrPipeWrite = devNull = null;
            stdoutSink = stderrSink = null;
            socket = consoleSocket;
            consoleSocket = null;
            log = logger;
            logger = null;
            if (stopped) {
                toClose.add(stop);
                toClose.add(hangup);
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

    private static Fd closeAndForget(Fd fd) {
        if (fd != null) {
            fd.close();
        }
        return null;
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
        return logger == null ? -1 : logger.pid();
    }

    synchronized List<Thread> copierThreads() {
        return List.copyOf(copiers);
    }
}
