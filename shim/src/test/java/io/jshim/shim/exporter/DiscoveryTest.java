package io.jshim.shim.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiscoveryTest {
    @Test
    void aLiveDaemonIsFoundAndDeadOrReusedPidsAreRemoved(@TempDir Path dir) throws Exception {
        int self = (int) ProcessHandle.current().pid();
        Path own = DaemonRegistry.write(dir, self, Path.of("/run/containerd/s/abc"), "default",
                "/run/containerd/containerd.sock", "ttrpc");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(own)));
        // a pid no process has (pid_max is at most 2^22) and this process's pid with another start time
        int dead = 4_194_304 + 1;
        Files.writeString(dir.resolve(Integer.toString(dead)), "pid=" + dead + "\nstart_time=5\nsocket=/x\n"
                + "namespace=n\ncontainerd_address=/y\n");
        Path reusedDir = Files.createDirectories(dir.resolve("other"));
        Files.writeString(reusedDir.resolve(Integer.toString(self)), Files.readString(own)
                .replaceFirst("start_time=[0-9]+", "start_time=1"));
        Files.writeString(dir.resolve(".77.tmp"), "half written");
        Files.writeString(dir.resolve("12"), "not a registration");

        Discovery.Found found = new Discovery(dir).discover();
        assertEquals(List.of(new Target(self, DaemonRegistry.startTime(self), Path.of("/run/containerd/s/abc"),
                "default", "/run/containerd/containerd.sock", "ttrpc")), found.targets());
        assertEquals(1, found.removed());
        assertFalse(Files.exists(dir.resolve(Integer.toString(dead))));
        assertTrue(Files.exists(dir.resolve(".77.tmp")), "a temp file is no registration");
        assertTrue(Files.exists(dir.resolve("12")), "an unreadable entry is left alone");

        Discovery.Found reused = new Discovery(reusedDir).discover();
        assertEquals(List.of(), reused.targets(), "same pid, another start time: not this daemon");
        assertEquals(1, reused.removed());
    }

    @Test
    void noDirectoryIsNoDaemon(@TempDir Path dir) throws Exception {
        assertEquals(new Discovery.Found(List.of(), 0), new Discovery(dir.resolve("none")).discover());
    }

    @Test
    void aLineBreakInAValueIsRefused(@TempDir Path dir) {
        int self = (int) ProcessHandle.current().pid();
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> DaemonRegistry.write(dir,
                self, Path.of("/s"), "a\nb", "/c", "ttrpc"));
    }

    @Test
    void aDaemonRemovesItsRegistrationAndOneRemovedFirstNeverRegisters(@TempDir Path dir) throws Exception {
        int self = (int) ProcessHandle.current().pid();
        DaemonRegistry registry = new DaemonRegistry(dir, self, Path.of("/s"), "n", "/c", "ttrpc");
        registry.register();
        assertEquals(1, new Discovery(dir).discover().targets().size());
        registry.remove();
        assertEquals(new Discovery.Found(List.of(), 0), new Discovery(dir).discover());

        DaemonRegistry exitedFirst = new DaemonRegistry(dir, self, Path.of("/s"), "n", "/c", "ttrpc");
        exitedFirst.remove();
        exitedFirst.register(); // the delayed registration of a daemon that exited within its first second
        assertFalse(Files.exists(dir.resolve(Integer.toString(self))));
    }
}
