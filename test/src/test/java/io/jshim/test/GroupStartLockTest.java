package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock file of a group's cold start ({@code /run/jshim/groups/<socket name>.lock}, scripts/launcher.sh) does not
 * outlive the start that made it: a start killed after it spawned the daemon cannot remove it, so the daemon does,
 * once it serves. Without that, a node kept a file for every group whose start containerd killed.
 */
class GroupStartLockTest {
    @TempDir
    Path dir;

    @Test
    void aDaemonRemovesTheLockFileAKilledStartLeftOnceItServes() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.writeString(bundle.resolve("config.json"), "{}");
        Path socket = dir.resolve("jshim-lock-" + ProcessHandle.current().pid() + ".sock");
        Path lock = Files.createDirectories(Path.of("/run/jshim/groups")).resolve(socket.getFileName() + ".lock");
        Files.writeString(lock, ""); // what a start killed between its spawn and its reply leaves
        // the daemon as the launcher's spawn runs it (-socket: it binds itself), in the background, its pid printed
        CommandResult spawn = new Monitor(Reaper.get()).run(SpawnSpec.of("/bin/sh", "-c",
                        "TTRPC_ADDRESS=\"$1/no-containerd.ttrpc\" setsid \"$2\" -namespace lock-test -address"
                                + " \"$1/no-containerd.sock\" -publish-binary containerd -id lock-test -socket \"$3\""
                                + " </dev/null >\"$1/daemon.log\" 2>&1 & echo $!",
                        "sh", dir.toString(), bin.resolve("containerd-shim-jshim-v2").toString(), socket.toString())
                .withWorkDir(bundle), null, Duration.ofSeconds(30));
        assertEquals(0, spawn.status(), spawn.stderrText());
        int daemon = Integer.parseInt(spawn.stdoutText().trim());
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!Files.readString(dir.resolve("daemon.log")).contains(" serving ") && System.nanoTime() < deadline) {
                assertTrue(ShimDaemon.alive(daemon), "the daemon died: " + Files.readString(dir.resolve("daemon.log")));
                Thread.sleep(50);
            }
            assertTrue(Files.readString(dir.resolve("daemon.log")).contains(" serving "), "the daemon never served");
            assertFalse(Files.exists(lock), "the daemon serving " + socket + " left its group's lock file " + lock);
        } finally {
            Files.deleteIfExists(lock);
            if (ShimDaemon.alive(daemon)) {
                Posix.kill(daemon, 15);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (ShimDaemon.alive(daemon) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                if (ShimDaemon.alive(daemon)) {
                    Posix.kill(daemon, 9);
                }
            }
            Files.deleteIfExists(socket);
        }
    }
}
