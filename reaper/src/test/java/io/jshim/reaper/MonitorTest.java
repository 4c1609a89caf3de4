package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MonitorTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private final Reaper reaper = Reaper.get();
    private final Monitor monitor = new Monitor(reaper);

    @Test
    void capturesLargeStdoutAndStderrAtOnce() throws Exception {
        // 5 MiB on stdout interleaved with stderr: a sequential reader would fill one pipe and hang.
        String script = "i=0; while [ $i -lt 80 ]; do head -c 65536 /dev/zero | tr '\\0' a; echo err$i >&2; i=$((i+1)); done";
        CommandResult r = monitor.run(SpawnSpec.of("sh", "-c", script), null, TIMEOUT);
        assertEquals(0, r.status(), r.stderrText());
        assertEquals(80 * 65536, r.stdout().length);
        for (byte b : r.stdout()) {
            if (b != 'a') {
                throw new AssertionError("unexpected byte " + b);
            }
        }
        assertTrue(r.stderrText().startsWith("err0\nerr1\n"), r.stderrText());
        assertTrue(r.stderrText().endsWith("err79\n"), r.stderrText());
    }

    @Test
    void feedsStdin() throws Exception {
        byte[] input = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(input);
        CommandResult r = monitor.run(SpawnSpec.of("cat"), input, TIMEOUT);
        assertEquals(0, r.status());
        assertArrayEquals(input, r.stdout());
    }

    @Test
    void noStdinMeansDevNull() throws Exception {
        CommandResult r = monitor.run(SpawnSpec.of("sh", "-c", "cat; readlink /proc/self/fd/0"), null, TIMEOUT);
        assertEquals("/dev/null\n", r.stdoutText());
    }

    @Test
    void childThatIgnoresStdinStillCompletes() throws Exception {
        CommandResult r = monitor.run(SpawnSpec.of("true"), new byte[4 * 1024 * 1024], TIMEOUT);
        assertEquals(0, r.status());
    }

    @Test
    void reportsExitStatusAndStderr() throws Exception {
        CommandResult r = monitor.run(SpawnSpec.of("sh", "-c", "echo out; echo oops >&2; exit 3"), null, TIMEOUT);
        assertEquals(3, r.status());
        assertEquals("out\n", r.stdoutText());
        assertEquals("oops\n", r.stderrText());
    }

    @Test
    void timeoutKillsTheChild() throws Exception {
        BlockingQueue<Exit> exits = new LinkedBlockingQueue<>();
        try (Subscription sub = reaper.subscribe("timeout", exits::add)) {
            long start = System.nanoTime();
            TimeoutException e = assertThrows(TimeoutException.class, () -> monitor.run(
                    SpawnSpec.of("sh", "-c", "echo $$; exec sleep 30"), null, Duration.ofMillis(300)));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "returned promptly");
            assertTrue(e.getMessage().contains("SIGKILL"), e.getMessage());
            int pid = Integer.parseInt(e.getMessage().replaceAll(".*\\(pid (\\d+)\\).*", "$1"));
            Exit exit = null;
            while (exit == null || exit.pid() != pid) {
                exit = exits.poll(10, TimeUnit.SECONDS);
                assertTrue(exit != null, "killed child reaped");
            }
            assertEquals(137, exit.status());
        }
    }

    @Test
    void missingBinaryGivesAClearIOException() {
        PosixException e = assertThrows(PosixException.class,
                () -> monitor.run(SpawnSpec.of("jshim-does-not-exist", "x"), null, TIMEOUT));
        assertEquals(Native.ENOENT, e.errno());
        assertEquals("spawn jshim-does-not-exist x: No such file or directory (ENOENT)", e.getMessage());
    }

    @Test
    void honoursWorkDirAndEnv(@TempDir Path dir) throws Exception {
        CommandResult r = monitor.run(SpawnSpec.of("sh", "-c", "pwd; echo \"$FOO\"; exec env")
                .withWorkDir(dir).withEnv(Map.of("FOO", "bar baz", "PATH", "/usr/bin:/bin")), null, TIMEOUT);
        String[] lines = r.stdoutText().split("\n");
        assertEquals(dir.toRealPath().toString(), lines[0]);
        assertEquals("bar baz", lines[1]);
        java.util.Set<String> keys = new java.util.TreeSet<>();
        for (int i = 2; i < lines.length; i++) {
            keys.add(lines[i].substring(0, lines[i].indexOf('=')));
        }
        keys.removeAll(java.util.Set.of("PWD", "OLDPWD", "SHLVL", "_")); // what the shell adds itself
        assertEquals(java.util.Set.of("FOO", "PATH"), keys, r.stdoutText());
        CommandResult inherited = monitor.run(SpawnSpec.of("sh", "-c", "echo \"$HOME\""), null, TIMEOUT);
        assertEquals(System.getenv("HOME") + "\n", inherited.stdoutText());
        PosixException e = assertThrows(PosixException.class,
                () -> monitor.run(SpawnSpec.of("true").withWorkDir(dir.resolve("missing")), null, TIMEOUT));
        assertTrue(e.getMessage().contains("working directory"), e.getMessage());
    }

    @Test
    void newSessionMakesTheChildASessionLeader() throws Exception {
        CommandResult r = monitor.run(SpawnSpec.of("cat", "/proc/self/stat").withNewSession(), null, TIMEOUT);
        String[] f = parseStat(r.stdoutText());
        assertEquals(f[0], f[4], "sid == pid");
        assertEquals(f[0], f[3], "pgrp == pid");
        CommandResult same = monitor.run(SpawnSpec.of("cat", "/proc/self/stat"), null, TIMEOUT);
        String[] g = parseStat(same.stdoutText());
        assertTrue(!g[0].equals(g[4]), "without newSession the child stays in our session");
    }

    /** pid, state, ppid, pgrp, session. */
    private static String[] parseStat(String stat) {
        String pid = stat.substring(0, stat.indexOf(' '));
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new String[] {pid, rest[0], rest[1], rest[2], rest[3]};
    }

    @Test
    void passesExtraFdsAndClosesAllOthers() throws Exception {
        int[] p = Posix.pipe();
        int[] unrelated = Posix.pipe(); // close-on-exec, like every fd the JVM opens
        try {
            CommandResult r = monitor.run(SpawnSpec.of("sh", "-c", "echo hello >&3; ls /proc/self/fd")
                    .withFd(3, p[1]), null, TIMEOUT);
            assertEquals(0, r.status(), r.stderrText());
            Posix.close(p[1]);
            p[1] = -1;
            byte[] buf = new byte[100];
            int n = Posix.read(p[0], buf, 0, buf.length);
            assertEquals("hello\n", new String(buf, 0, n, StandardCharsets.UTF_8));
            assertEquals(-1, Posix.read(p[0], buf, 0, buf.length), "no other copy of the write end");
            // ls sees 0, 1, 2, 3 and the directory it is listing
            assertEquals("0\n1\n2\n3\n4\n", r.stdoutText());
        } finally {
            Posix.close(p[0]);
            Posix.close(p[1]);
            Posix.close(unrelated[0]);
            Posix.close(unrelated[1]);
        }
    }

    @Test
    void fdMappingsThatOverlapTheirSourcesAreApplied(@TempDir Path dir) throws Exception {
        // child 3 <- our A, child 4 <- our B, where the mapping also swaps numbers a naive dup2 order breaks
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        int fa = Posix.open(a.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_CLOEXEC, 0644);
        int fb = Posix.open(b.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_CLOEXEC, 0644);
        try {
            SpawnSpec spec = SpawnSpec.of("bash", "-c", "echo to-" + fb + " >&" + fa + "; echo to-" + fa + " >&" + fb)
                    .withFd(fa, fb).withFd(fb, fa);
            CommandResult r = monitor.run(spec, null, TIMEOUT);
            assertEquals(0, r.status(), r.stderrText());
            assertEquals("to-" + fb + "\n", Files.readString(b));
            assertEquals("to-" + fa + "\n", Files.readString(a));
        } finally {
            Posix.close(fa);
            Posix.close(fb);
        }
    }

    @Test
    void mappedStdoutIsPassedThroughNotCaptured(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("out");
        int fd = Posix.open(file.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_CLOEXEC, 0644);
        try {
            CommandResult r = monitor.run(SpawnSpec.of("sh", "-c", "echo to-file; echo to-err >&2").withFd(1, fd), null, TIMEOUT);
            assertEquals(0, r.stdout().length);
            assertEquals("to-err\n", r.stderrText());
            assertEquals("to-file\n", Files.readString(file));
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void descendantHoldingThePipeDoesNotHoldRun() throws Exception {
        long start = System.nanoTime();
        CommandResult r = new Monitor(reaper, Duration.ofMillis(200)).run(
                SpawnSpec.of("sh", "-c", "sleep 5 & echo $!; exit 0"), null, TIMEOUT);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "did not wait for the daemon");
        assertEquals(0, r.status());
        int daemon = Integer.parseInt(r.stdoutText().trim());
        Posix.kill(daemon, Posix.SIGKILL); // our child now (subreaper), still alive: its pid is not reused
    }

    @Test
    void runsFromVirtualThreadsConcurrently() throws Exception {
        int n = Procs.scaled(20, 100);
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new java.util.ArrayList<java.util.concurrent.Future<CommandResult>>();
            for (int i = 0; i < n; i++) {
                int k = i;
                futures.add(pool.submit(() -> monitor.run(SpawnSpec.of("sh", "-c", "echo " + k + "; exit " + (k % 5)),
                        null, TIMEOUT)));
            }
            for (int i = 0; i < n; i++) {
                CommandResult r = futures.get(i).get();
                assertEquals(i + "\n", r.stdoutText());
                assertEquals(i % 5, r.status());
            }
        }
    }
}
