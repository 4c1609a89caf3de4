package io.jshim.stdio;

import static io.jshim.stdio.Harness.await;
import static io.jshim.stdio.Harness.awaitDrained;
import static io.jshim.stdio.Harness.runContainer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Child;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** binary:// logging binaries, played by small shell scripts. */
class BinaryIoTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    /** Copies fd 3 to $2 and fd 4 to $4, records its args and env, then says ready. */
    private Path copyingLogger() throws IOException {
        return script("logger.sh", """
                printf '%s\\n' "$@" > "$2.args"
                /usr/bin/env > "$2.env"
                /bin/cat <&3 > "$2" &
                /bin/cat <&4 > "$4" &
                exec 3<&- 4<&-
                printf x >&5
                exec 5>&-
                wait
                """);
    }

    private IoContext ctx(String execId) {
        return IoContext.of("c1", execId, "k8s.io", 0, 0, dir, Harness.REAPER)
                .withLoggerTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(1));
    }

    @Test
    void theLoggerGetsBothStreamsItsArgumentsAndOnlyTheTwoVariables() throws Exception {
        Path logger = copyingLogger();
        String out = dir.resolve("out").toString();
        String err = dir.resolve("err").toString();
        String uri = "binary://" + logger + "?out=" + out + "&err=" + err;
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", uri, uri, false), ctx(null));
        try {
            int loggerPid = io.loggerPid();
            assertTrue(loggerPid > 0);
            Child child = runContainer(io, "sh", "-c", "echo to-out; echo to-err >&2; exit 7");
            assertEquals(7, await(child, T).status());
            awaitDrained(io, T);
            // We closed our copies of the write ends: the logger sees EOF when the process is gone.
            awaitFile(Path.of(out), "to-out\n");
            awaitFile(Path.of(err), "to-err\n");
            assertEquals(List.of("out", out, "err", err), Files.readAllLines(Path.of(out + ".args")));
            List<String> env = Files.readAllLines(Path.of(out + ".env"));
            assertTrue(env.contains("CONTAINER_ID=c1"), env.toString());
            assertTrue(env.contains("CONTAINER_NAMESPACE=k8s.io"), env.toString());
            assertFalse(env.stream().anyMatch(l -> l.startsWith("HOME=") || l.startsWith("JAVA_HOME=")),
                    "the JVM's environment must not leak to the logger: " + env);
        } finally {
            long t0 = System.nanoTime();
            io.close();
            assertTrue(System.nanoTime() - t0 < Duration.ofMillis(900).toNanos(), "a logger that exits by itself is not waited for");
        }
    }

    @Test
    void anExecsLoggerIsToldTheExecIdAsTheRuncShimDoes() throws Exception {
        Path logger = copyingLogger();
        String out = dir.resolve("out").toString();
        String uri = "binary://" + logger + "?out=" + out + "&err=" + dir.resolve("err");
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", uri, "", false), ctx("exec-7"))) {
            Child child = runContainer(io, "true");
            await(child, T);
            awaitFile(Path.of(out + ".env"), "CONTAINER_ID=exec-7\n");
        }
    }

    @Test
    void aLoggerIgnoringSigtermIsKilledAfterTheStopTimeout() throws Exception {
        Path logger = script("stubborn.sh", """
                trap '' TERM
                printf x >&5
                exec 3<&- 4<&- 5>&-
                exec /bin/sleep 60
                """);
        ProcessIO io = ProcessIO.prepare(new StdioSpec("", "binary://" + logger, "", false), ctx(null));
        int pid = io.loggerPid();
        Child child = runContainer(io, "true");
        await(child, T);
        long t0 = System.nanoTime();
        io.close();
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(millis >= 900 && millis < 5000, "close took " + millis + " ms (stop timeout 1 s)");
        assertFalse(Files.exists(Path.of("/proc/" + pid + "/cmdline")) && isSleep(pid), "logger still alive");
    }

    private static boolean isSleep(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).contains("sleep");
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aLoggerThatNeverGetsReadyFailsPrepareAndLeavesNothing() throws Exception {
        Path logger = script("silent.sh", "exec /bin/sleep 60\n"); // keeps fd 5 open, never writes
        var before = Harness.openFds();
        IOException e = assertThrows(IOException.class,
                () -> ProcessIO.prepare(new StdioSpec("", "binary://" + logger, "", false), ctx(null)));
        assertTrue(e.getMessage().contains("did not signal ready"), e.getMessage());
        Harness.assertFdsReturnTo(before);
    }

    @Test
    void binaryV2RequiresTheReadyByte() throws Exception {
        Path logger = script("closer.sh", "exec 5>&-\nexec /bin/cat <&3 >/dev/null\n");
        IOException e = assertThrows(IOException.class,
                () -> ProcessIO.prepare(new StdioSpec("", "binary-v2://" + logger, "", false), ctx(null)));
        assertTrue(e.getMessage().contains("did not call ready"), e.getMessage());
        // binary:// takes the close as ready
        try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", "binary://" + logger, "", false), ctx(null))) {
            assertTrue(io.loggerPid() > 0);
        }
    }

    @Test
    void aMissingLoggerBinaryFailsPrepare() throws Exception {
        var before = Harness.openFds();
        String missing = dir.resolve("nope").toString();
        IOException e = assertThrows(IOException.class,
                () -> ProcessIO.prepare(new StdioSpec("", "binary://" + missing, "", false), ctx(null)));
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        Harness.assertFdsReturnTo(before);
    }

    static void awaitFile(Path file, String content) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(content)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(file + " never contained " + content.strip()
                + (Files.exists(file) ? ": " + Files.readString(file) : " (missing)"));
    }
}
