package io.jshim.stdio;

import static io.jshim.stdio.Harness.await;
import static io.jshim.stdio.Harness.awaitDrained;
import static io.jshim.stdio.Harness.context;
import static io.jshim.stdio.Harness.fifo;
import static io.jshim.stdio.Harness.runContainer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jshim.reaper.Child;
import io.jshim.reaper.Exit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Fifo (and plain file path) IO with real processes standing in for the container. */
class FifoIoTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void stdoutAndStderrReachTheirFifosAndTheExitStatusIsTheProcesss() throws Exception {
        String out = fifo(dir, "out");
        String err = fifo(dir, "err");
        try (Harness.FifoReader outReader = new Harness.FifoReader(out);
             Harness.FifoReader errReader = new Harness.FifoReader(err);
             ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, err, false), context(dir))) {
            Child child = runContainer(io, "sh", "-c", "echo out; echo err >&2; exit 3");
            assertEquals(3, await(child, T).status());
            awaitDrained(io, T);
            assertEquals("out\n", outReader.awaitText("out\n", T));
            assertEquals("err\n", errReader.awaitText("err\n", T));
        }
    }

    @Test
    void tenMegabytesThroughCatArriveIntactAndCloseIoEndsStdin() throws Exception {
        String in = fifo(dir, "in");
        String out = fifo(dir, "out");
        byte[] payload = new byte[10_000_000];
        new Random(42).nextBytes(payload);
        try (Harness.FifoReader reader = new Harness.FifoReader(out);
             ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, "", false), context(dir))) {
            Child child = runContainer(io, "cat");
            try (Fd writer = Harness.openStdinWriter(in)) {
                long start = System.nanoTime();
                Harness.write(writer, payload, T);
                io.closeStdin(); // CloseIO: our held writer goes; with the client's gone too, cat gets EOF
                writer.close();
                assertEquals(0, await(child, T).status());
                awaitDrained(io, T);
                byte[] got = reader.awaitBytes(payload.length, T);
                long millis = (System.nanoTime() - start) / 1_000_000;
                System.out.printf("10 MB stdin -> cat -> stdout fifo: %d ms%n", millis);
                assertEquals(payload.length, got.length);
                assertEquals(Harness.sha256(payload), Harness.sha256(got));
            }
        }
    }

    @Test
    void stdinStaysOpenUntilCloseIo() throws Exception {
        String in = fifo(dir, "in");
        String out = fifo(dir, "out");
        try (Harness.FifoReader reader = new Harness.FifoReader(out);
             ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, "", false), context(dir))) {
            Child child = runContainer(io, "cat");
            try (Fd writer = Harness.openStdinWriter(in)) {
                Harness.write(writer, "one\n".getBytes(StandardCharsets.UTF_8), T);
                writer.close(); // the client closes, but the shim's held writer keeps stdin open
                assertEquals("one\n", reader.awaitText("one\n", T));
                Thread.sleep(300);
                assertFalse(child.onExit().isDone(), "cat must still be waiting for input");
                io.closeStdin();
                assertEquals(0, await(child, T).status());
            }
        }
    }

    @Test
    void outputWrittenJustBeforeExitIsInTheSinkWhenDrainedCompletes() throws Exception {
        int rounds = Harness.FULL ? 200 : 25;
        for (int i = 0; i < rounds; i++) {
            String out = fifo(dir, "out" + i);
            try (Harness.FifoReader reader = new Harness.FifoReader(out);
                 ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, out, false), context(dir))) {
                Child child = runContainer(io, "sh", "-c", "head -c 100000 /dev/zero; printf last-words-" + i);
                await(child, T);
                awaitDrained(io, T);
                // After drained(), every byte is in the fifo: the reader needs no more writes.
                byte[] got = reader.awaitBytes(100000 + ("last-words-" + i).length(), T);
                assertTrue(new String(got, StandardCharsets.US_ASCII).endsWith("last-words-" + i), "round " + i);
                assertEquals(100000 + ("last-words-" + i).length(), got.length);
            }
        }
    }

    @Test
    void aReaderThatGoesAwayDoesNotBlockTheProcess() throws Exception {
        String out = fifo(dir, "out");
        ListAppender<ILoggingEvent> logs = capture(Sink.class);
        try {
            Harness.FifoReader reader = new Harness.FifoReader(out);
            try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, "", false), context(dir))) {
                Child child = runContainer(io, "head", "-c", "30000000", "/dev/zero");
                reader.awaitBytes(1_000_000, T);
                reader.close(); // the client's reader goes away mid-stream
                Exit exit = await(child, T);
                assertEquals(0, exit.status(), "head wrote 30 MB and exited although nobody reads");
                awaitDrained(io, T);
            }
            long warnings = logs.list.stream()
                    .filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("container c1"))
                    .count();
            assertEquals(1, warnings, "the failing sink is logged once, naming the container: " + logs.list);
        } finally {
            release(Sink.class, logs);
        }
    }

    @Test
    void aSlowReaderLosesNothing() throws Exception {
        String out = fifo(dir, "out");
        int size = 3_000_000;
        try (Harness.FifoReader reader = new Harness.FifoReader(out).pauseAfter(100_000, Duration.ofMillis(1500));
             ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, "", false), context(dir))) {
            // grace is 200 ms: the shim probes during the pause, finds the reader alive and keeps waiting
            Child child = runContainer(io, "head", "-c", String.valueOf(size), "/dev/zero");
            assertEquals(0, await(child, T).status());
            awaitDrained(io, T);
            assertEquals(size, reader.awaitBytes(size, T).length);
        }
    }

    @Test
    void aFifoWithNoReaderAtAllDoesNotBlockTheProcess() throws Exception {
        String out = fifo(dir, "out");
        // Nobody ever opens the fifo: prepare must not block, and the process must finish.
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, "", false), context(dir))) {
            Child child = runContainer(io, "head", "-c", "5000000", "/dev/zero");
            assertEquals(0, await(child, T).status());
            awaitDrained(io, T);
        }
    }

    @Test
    void aReaderThatComesBackGetsTheOutputAgain() throws Exception {
        String in = fifo(dir, "in");
        String out = fifo(dir, "out");
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, "", false), context(dir))) {
            Child child = runContainer(io, "cat");
            try (Fd writer = Harness.openStdinWriter(in)) {
                // No reader: fill the fifo past its 64 KiB so the shim probes and starts discarding.
                Harness.write(writer, new byte[1_000_000], T);
                Thread.sleep(600);
                try (Harness.FifoReader reader = new Harness.FifoReader(out)) {
                    Harness.write(writer, "back\n".getBytes(StandardCharsets.UTF_8), T);
                    assertTrue(reader.awaitText("back\n", T).endsWith("back\n"));
                }
                io.closeStdin();
            }
            assertEquals(0, await(child, T).status());
        }
    }

    @Test
    void regularFilesSharedByStdoutAndStderrGetBothStreams() throws Exception {
        Path log = Files.createFile(dir.resolve("log"));
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", log.toString(), log.toString(), false), context(dir))) {
            Child child = runContainer(io, "sh", "-c", "echo to-out; echo to-err >&2");
            await(child, T);
            awaitDrained(io, T);
        }
        String text = Files.readString(log);
        assertTrue(text.contains("to-out\n") && text.contains("to-err\n"), text);
    }

    @Test
    void absentStreamsAreDevNullForRuncAndNullIoHasNoFds() throws Exception {
        String out = fifo(dir, "out");
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", out, "", false), context(dir))) {
            Map<Integer, Integer> fds = io.runcFds();
            assertEquals(java.util.Set.of(0, 1, 2), fds.keySet());
            assertEquals("/dev/null", Files.readSymbolicLink(Path.of("/proc/self/fd/" + fds.get(0))).toString());
            assertEquals("/dev/null", Files.readSymbolicLink(Path.of("/proc/self/fd/" + fds.get(2))).toString());
            assertNotEquals("/dev/null", Files.readSymbolicLink(Path.of("/proc/self/fd/" + fds.get(1))).toString());
        }
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", "", "", false), context(dir))) {
            assertEquals(Map.of(), io.runcFds());
            assertTrue(io.consoleSocket().isEmpty());
            io.start(Duration.ofSeconds(1));
            assertTrue(io.drained().isDone());
        }
    }

    @Test
    void aMissingFifoPathFailsNamingItAndLeaksNothing() throws Exception {
        String out = fifo(dir, "out");
        String missing = dir.resolve("no-such-stderr").toString();
        Map<String, Integer> before = Harness.openFds();
        IOException e = assertThrows(IOException.class,
                () -> ProcessIO.prepare(new StdioSpec(fifo(dir, "in"), out, missing, false), context(dir)));
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertTrue(e.getMessage().contains("No such file or directory"), e.getMessage());
        Harness.assertFdsReturnTo(before);
    }

    @Test
    void theCopiersArePlatformThreadsNamedAfterTheContainer() throws Exception {
        String in = fifo(dir, "in");
        String out = fifo(dir, "out");
        String err = fifo(dir, "err");
        IoContext ctx = IoContext.of("box", "ex1", "ns", 0, 0, dir, Harness.REAPER);
        try (Harness.FifoReader r1 = new Harness.FifoReader(out); Harness.FifoReader r2 = new Harness.FifoReader(err);
             ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, err, false), ctx)) {
            Child child = runContainer(io, "cat");
            var names = io.copierThreads().stream().map(Thread::getName).sorted().toList();
            assertEquals(java.util.List.of("io-box-ex1-stderr", "io-box-ex1-stdin", "io-box-ex1-stdout"), names);
            assertTrue(io.copierThreads().stream().noneMatch(Thread::isVirtual));
            io.closeStdin();
            // The client never opened the stdin fifo for writing: closing the held writer is EOF.
            assertEquals(0, await(child, T).status());
            CompletableFuture<Void> drained = io.drained();
            drained.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    static ListAppender<ILoggingEvent> capture(Class<?> type) {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(type);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    static void release(Class<?> type, ListAppender<ILoggingEvent> appender) {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(type)).detachAppender(appender);
    }
}
