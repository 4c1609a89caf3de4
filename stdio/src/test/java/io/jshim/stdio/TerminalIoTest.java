package io.jshim.stdio;

import static io.jshim.stdio.Harness.await;
import static io.jshim.stdio.Harness.awaitDrained;
import static io.jshim.stdio.Harness.context;
import static io.jshim.stdio.Harness.fifo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Child;
import io.jshim.reaper.SpawnSpec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Terminals: the test plays runc, opening a pty and sending its master over the console socket
 * with SCM_RIGHTS, then running the "container" on the slave.
 */
class TerminalIoTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** A pty pair as runc makes it: {master, slave}. */
    static int[] openPty() throws IOException {
        int master = StdioNative.open("/dev/ptmx", StdioNative.O_RDWR | StdioNative.O_NOCTTY, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(ValueLayout.JAVA_INT);
            arg.set(ValueLayout.JAVA_INT, 0, 0);
            StdioNative.ioctl(master, StdioNative.TIOCSPTLCK, arg, "unlockpt");
            StdioNative.ioctl(master, StdioNative.TIOCGPTN, arg, "ptsname");
            int n = arg.get(ValueLayout.JAVA_INT, 0);
            int slave = StdioNative.open("/dev/pts/" + n, StdioNative.O_RDWR | StdioNative.O_NOCTTY, 0);
            return new int[] {master, slave};
        } catch (IOException | RuntimeException e) {
            StdioNative.close(master);
            throw e;
        }
    }

    static void sendMaster(Path socket, int master) throws Exception {
        RuncConsole.sendMaster(socket, master);
    }

    static Child runOnSlave(int slave, String... argv) throws IOException {
        return Harness.REAPER.spawn(new SpawnSpec(List.of(argv), null, null, Map.of(0, slave, 1, slave, 2, slave),
                false, false));
    }

    @Test
    void consoleCopiesBothWaysResizesAndHangsUpOnCloseIo() throws Exception {
        long ptmxBefore = Harness.ptmxCount();
        var fdsBefore = Harness.openFds();
        String in = fifo(dir, "in");
        String out = fifo(dir, "out");
        try (Harness.FifoReader reader = new Harness.FifoReader(out)) {
            ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, "", true), context(dir));
            try {
                assertEquals(Map.of(), io.runcFds());
                Path socket = io.consoleSocket().orElseThrow();
                assertTrue(Files.exists(socket));
                int[] pty = openPty();
                int slave = pty[1];
                sendMaster(socket, pty[0]);
                Child child = runOnSlave(slave, "cat");
                io.start(Duration.ofSeconds(5));
                assertFalse(Files.exists(socket), "the console socket is removed once the master arrived");

                // The slave side (the container's terminal) reaches the stdout fifo.
                StdioNative.writeFully(slave, "from-slave\n".getBytes(StandardCharsets.UTF_8));
                assertTrue(reader.awaitText("from-slave\r\n", T).contains("from-slave\r\n"), reader.text());

                // stdin fifo -> master -> cat on the slave -> master -> stdout fifo (plus the tty echo).
                try (Fd writer = Harness.openStdinWriter(in)) {
                    Harness.write(writer, "hello\n".getBytes(StandardCharsets.UTF_8), T);
                    String text = reader.awaitText("hello\r\nhello\r\n", T);
                    assertTrue(text.contains("hello\r\nhello\r\n"), text);

                    io.resize(100, 40);
                    assertArrayEquals(new int[] {40, 100}, StdioNative.getWinsize(slave));
                    StdioNative.close(slave);

                    // CloseIO + the client closing: stdin EOF releases the console, cat sees the hangup.
                    io.closeStdin();
                }
                await(child, T);
                awaitDrained(io, T);
                io.resize(10, 10); // the console is gone: a no-op, as in the runc shim
            } finally {
                io.close();
            }
        }
        assertEquals(ptmxBefore, Harness.ptmxCount());
        Harness.assertFdsReturnTo(fdsBefore);
    }

    @Test
    void outputBeforeExitIsDrainedWhenTheProcessExits() throws Exception {
        String out = fifo(dir, "out");
        try (Harness.FifoReader reader = new Harness.FifoReader(out);
             ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, "", true), context(dir))) {
            int[] pty = openPty();
            sendMaster(io.consoleSocket().orElseThrow(), pty[0]);
            Child child = runOnSlave(pty[1], "sh", "-c", "head -c 200000 /dev/zero | tr '\\0' a; printf the-end");
            StdioNative.close(pty[1]);
            io.start(Duration.ofSeconds(5));
            await(child, T);
            awaitDrained(io, T); // master read gives EIO once the slave is closed by everyone
            String text = reader.awaitText("the-end", T);
            assertTrue(text.endsWith("the-end"), text.substring(Math.max(0, text.length() - 50)));
            assertEquals(200000 + "the-end".length(), text.length());
        }
    }

    @Test
    void noMasterWithinTheTimeoutIsAnErrorAndLeavesNothing() throws Exception {
        var before = Harness.openFds();
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", true), context(dir));
        Path socket = io.consoleSocket().orElseThrow();
        IOException e = assertThrows(IOException.class, () -> io.start(Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains(socket.toString()), e.getMessage());
        io.close();
        assertFalse(Files.exists(socket));
        Harness.assertFdsReturnTo(before);
    }

    @Test
    void connectionsWithoutAMasterDoNotHideTheOneThatSendsIt() throws Exception {
        long ptmxBefore = Harness.ptmxCount();
        var fdsBefore = Harness.openFds();
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", true), context(dir));
        Path socket = io.consoleSocket().orElseThrow();
        int[] pty = openPty();
        try (RuncConsole silent = RuncConsole.connect(socket);
             RuncConsole nameOnly = RuncConsole.connect(socket)) {
            nameOnly.send("/dev/pts/9"); // data but no fd: read, discarded, the connection kept
            RuncConsole.connect(socket).close(); // gone without a word
            sendMaster(socket, pty[0]);
            io.start(Duration.ofSeconds(10));
            assertFalse(Files.exists(socket));
            StdioNative.writeFully(pty[1], "x".getBytes(StandardCharsets.UTF_8)); // the slave has a master
        } finally {
            StdioNative.close(pty[1]);
            io.close();
        }
        assertEquals(ptmxBefore, Harness.ptmxCount());
        Harness.assertFdsReturnTo(fdsBefore);
    }

    @Test
    void aVirtualThreadWaitingForALateMasterGetsIt() throws Exception {
        long ptmxBefore = Harness.ptmxCount();
        var fdsBefore = Harness.openFds();
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", true), context(dir));
        Path socket = io.consoleSocket().orElseThrow();
        var started = new CompletableFuture<Throwable>();
        Thread starter = Thread.ofVirtual().start(() -> {
            try {
                io.start(Duration.ofSeconds(30));
                started.complete(null);
            } catch (Throwable t) {
                started.complete(t);
            }
        });
        int[] pty = openPty();
        try {
            Thread.sleep(200); // the start is waiting by now (if not, it finds the master at once: as good)
            sendMaster(socket, pty[0]);
            assertNull(started.get(30, TimeUnit.SECONDS));
            starter.join();
            StdioNative.writeFully(pty[1], "x".getBytes(StandardCharsets.UTF_8));
        } finally {
            StdioNative.close(pty[1]);
            io.close();
        }
        assertEquals(ptmxBefore, Harness.ptmxCount());
        Harness.assertFdsReturnTo(fdsBefore);
    }

    @Test
    void fdsSentBesideTheMasterAreClosed() throws Exception {
        long ptmxBefore = Harness.ptmxCount();
        var fdsBefore = Harness.openFds();
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", true), context(dir));
        int[] pty = openPty();
        int[] pipe = StdioNative.pipe();
        try (RuncConsole c = RuncConsole.connect(io.consoleSocket().orElseThrow())) {
            c.send("/dev/pts/0", pty[0], pipe[0], pipe[1]);
        } finally {
            StdioNative.close(pty[0]);
            StdioNative.close(pipe[0]);
            StdioNative.close(pipe[1]);
        }
        try {
            io.start(Duration.ofSeconds(10));
            StdioNative.writeFully(pty[1], "x".getBytes(StandardCharsets.UTF_8)); // the first fd is the master
        } finally {
            StdioNative.close(pty[1]);
            io.close();
        }
        assertEquals(ptmxBefore, Harness.ptmxCount());
        Harness.assertFdsReturnTo(fdsBefore); // no copy of the pipe's ends stays open here
    }

    @Test
    void closeWakesAStartWaitingForTheMaster() throws Exception {
        var fdsBefore = Harness.openFds();
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", true), context(dir));
        Path socket = io.consoleSocket().orElseThrow();
        RuncConsole silent = RuncConsole.connect(socket); // accepted, then held open by the waiting start
        var failure = new CompletableFuture<Throwable>();
        Thread starter = Thread.ofVirtual().start(() -> { // as a ttrpc call: its wait goes to a platform thread
            try {
                io.start(Duration.ofMinutes(5));
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        try {
            Thread.sleep(200); // let it reach its poll (an earlier close is as good: start then fails at once)
            long t0 = System.nanoTime();
            io.close(); // e.g. Delete of a container whose runc create hangs
            Throwable t = failure.get(30, TimeUnit.SECONDS);
            assertTrue(t instanceof IOException, String.valueOf(t));
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "start left within seconds");
            starter.join();
        } finally {
            silent.close();
        }
        assertFalse(Files.exists(socket));
        Harness.assertFdsReturnTo(fdsBefore);
    }

    @Test
    void aMasterSentButNeverStartedIsClosed() throws Exception {
        long ptmxBefore = Harness.ptmxCount();
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", true), context(dir));
        int[] pty = openPty();
        sendMaster(io.consoleSocket().orElseThrow(), pty[0]);
        StdioNative.close(pty[1]);
        Thread.sleep(100);
        io.close(); // e.g. runc create failed after sending the console
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (Harness.ptmxCount() != ptmxBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(ptmxBefore, Harness.ptmxCount());
    }

    @Test
    void withBinaryLoggingTheLoggerGetsTheConsoleOutput() throws Exception {
        Path logger = dir.resolve("logger.sh");
        Files.writeString(logger, """
                #!/bin/sh
                /bin/cat <&3 > "$2" &
                exec 3<&-
                printf x >&5
                exec 5>&-
                wait
                """);
        Files.setPosixFilePermissions(logger, PosixFilePermissions.fromString("rwx------"));
        Path out = dir.resolve("console.log");
        String uri = "binary://" + logger + "?out=" + out;
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", uri, "", true), context(dir))) {
            int[] pty = openPty();
            sendMaster(io.consoleSocket().orElseThrow(), pty[0]);
            Child child = runOnSlave(pty[1], "sh", "-c", "echo on-the-console");
            StdioNative.close(pty[1]);
            io.start(Duration.ofSeconds(5));
            await(child, T);
            awaitDrained(io, T);
            BinaryIoTest.awaitFile(out, "on-the-console\r\n");
        }
    }
}
