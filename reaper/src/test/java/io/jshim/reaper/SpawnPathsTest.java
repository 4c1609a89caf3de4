package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two ways a child is started give it the same start: {@link CloneSpawn} (this JVM, where libjshim_libc.so is
 * loaded) and posix_spawnp with setpriv (a JVM without the library). One probe asks a child with every option set
 * what it got: working directory, environment, signals, session, open fds, the parent-death signal.
 */
class SpawnPathsTest {

    @Test
    void thisJvmSpawnsThroughClone() {
        assertTrue(CloneSpawn.AVAILABLE, "libjshim_libc.so not loaded from " + System.getProperty("java.library.path"));
    }

    @Test
    void cloneGivesTheChildWhatItAskedFor(@TempDir Path dir) throws Exception {
        assertEquals(Probe.expected(dir), Probe.run(dir));
    }

    @Test
    void posixSpawnWithSetprivGivesTheSameStart(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.library.path=/nonexistent", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName(), dir.toString()), null, Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stderrText());
        assertEquals("posix_spawnp\n" + Probe.expected(dir), r.stdoutText());
    }

    @Test
    void aFailedExecIsReportedAndReapedBySpawn(@TempDir Path dir) throws Exception {
        Path notExecutable = Files.writeString(dir.resolve("script"), "#!/bin/sh\n");
        PosixException e = assertThrows(PosixException.class,
                () -> Reaper.get().spawn(SpawnSpec.of(notExecutable.toString())));
        assertEquals("EACCES", e.errnoName());
        assertTrue(e.getMessage().contains(notExecutable.toString()), e.getMessage());
        // the reaper waited for that spawn and went on: the next child's exit arrives
        Child next = Reaper.get().spawn(SpawnSpec.of("true"));
        assertEquals(0, next.onExit().get(10, TimeUnit.SECONDS).status());
    }

    /** Spawns a shell with every option and reports what the shell found; run here and in a JVM without the library. */
    static final class Probe {
        // The shell reports, one per line: its directory, $A, its blocked and ignored signals (with builtins only:
        // dash blocks every signal around each fork, so a forked grep could catch it mid-fork), whether it leads its
        // session, its open fds (ls, not a pipe or a $(...), which would add one); writes to fd 3; then becomes
        // perl, which reads its parent-death signal back with prctl(PR_GET_PDEATHSIG = 2) (syscall 157 on x86-64;
        // the signal survives exec, not fork).
        private static final String SCRIPT = """
                pwd; echo "A=$A"
                while read -r key value; do case $key in SigBlk:|SigIgn:) echo "$key $value";; esac; done < /proc/$$/status
                [ "$(cut -d' ' -f6 /proc/$$/stat)" = $$ ] && echo "session leader"
                echo fds; ls /proc/$$/fd; echo hello >&3
                exec perl -e 'my $s = pack("i", 0); syscall(157, 2, $s) == 0 or die $!; print unpack("i", $s), "\\n"'
                """;

        static String expected(Path dir) {
            return dir + "\nA=b\nSigBlk: 0000000000000000\nSigIgn: 0000000000000000\nsession leader\nfds\n0\n1\n2\n3\n"
                    + "9\nfd 3: hello\n";
        }

        static String run(Path dir) throws Exception {
            int[] pipe = Posix.pipe();
            CommandResult r;
            try {
                SpawnSpec spec = SpawnSpec.of("sh", "-c", SCRIPT)
                        .withEnv(Map.of("A", "b", "PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin")))
                        .withWorkDir(dir).withFd(3, pipe[1]).withNewSession().withKillOnParentDeath();
                r = new Monitor(Reaper.get()).run(spec, null, Duration.ofSeconds(20));
            } finally {
                Posix.close(pipe[1]);
            }
            byte[] buf = new byte[64];
            int n = Posix.read(pipe[0], buf, 0, buf.length);
            Posix.close(pipe[0]);
            return r.stdoutText() + r.stderrText() + "fd 3: " + new String(buf, 0, Math.max(n, 0));
        }

        public static void main(String[] args) throws Exception {
            System.out.print((CloneSpawn.AVAILABLE ? "clone\n" : "posix_spawnp\n") + run(Path.of(args[0])));
            System.exit(0);
        }
    }
}
