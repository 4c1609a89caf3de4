package io.jshim.stdio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ends of one process's stdio that {@link ProcessIO#prepare} opens before runc runs: the OS pipes (chowned to
 * ioUid/ioGid), the fifos and files, a binary:// logger, or a terminal's console socket; and the fds runc gets as
 * 0, 1 and 2. Every field is guarded by the owning {@link ProcessIO}'s monitor; each Fd or Sink is owned here until
 * {@link ProcessIO#start} hands it to a copier (and sets the field to null), and {@link ProcessIO#close} releases
 * whatever is still here.
 */
final class IoEnds {
    private final StdioSpec spec;
    private final IoContext ctx;
    private final IoTarget target;
    private final String label;

    Wakeup stop;
    Wakeup hangup;
    Fd stdinPipeRead;
    Fd stdinPipeWrite;
    Fd stdoutPipeRead;
    Fd stdoutPipeWrite;
    Fd stderrPipeRead;
    Fd stderrPipeWrite;
    Fd devNull;
    Fd stdinFifo;
    boolean stdinIsFifo;
    Sink stdoutSink;
    Sink stderrSink;
    ConsoleSocket consoleSocket;
    Path consolePath;
    LoggerProcess logger;
    Map<Integer, Integer> runcFds = Map.of();

    IoEnds(StdioSpec spec, IoContext ctx, IoTarget target) {
        this.spec = spec;
        this.ctx = ctx;
        this.target = target;
        this.label = ctx.label();
    }

    void open() throws IOException {
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
        consoleSocket = ConsoleSocket.listen(consolePath);
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

    /** Made on first use: seeding it loads the security providers, which a container without a tty need not pay for. */
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

    static Fd closeAndForget(Fd fd) {
        if (fd != null) {
            fd.close();
        }
        return null;
    }
}
