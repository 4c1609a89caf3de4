package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartCommandAliveTest {
    @TempDir
    Path dir;

    @Test
    void aListeningSocketIsAliveAndTheFileItLeavesBehindIsNot() throws Exception {
        Path socket = dir.resolve("s.sock");
        assertFalse(StartCommand.isAlive(socket), "no socket yet");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            assertTrue(StartCommand.isAlive(socket));
            assertFalse(StartCommand.isAlive(dir.resolve("other.sock")), "another path");
        }
        assertTrue(Files.exists(socket), "closing a unix listener leaves its file");
        assertFalse(StartCommand.isAlive(socket), "a stale socket file");
    }
}
