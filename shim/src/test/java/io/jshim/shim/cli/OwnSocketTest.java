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

/** A daemon removes its own socket file, and leaves alone one that a new start of its group bound at the path. */
class OwnSocketTest {
    @TempDir
    Path dir;

    @Test
    void removesItsOwnSocket() throws Exception {
        Path path = dir.resolve("s");
        try (ServerSocketChannel s = bind(path)) {
            OwnSocket own = OwnSocket.at(path);
            assertTrue(own.removeIfOurs());
            assertFalse(Files.exists(path));
            assertFalse(own.removeIfOurs(), "gone already");
        }
    }

    @Test
    void leavesTheSocketOfANewStartAlone() throws Exception {
        Path path = dir.resolve("s");
        try (ServerSocketChannel old = bind(path)) {
            OwnSocket own = OwnSocket.at(path);
            // the old daemon stopped accepting; a cold start found the socket dead, removed it and bound its own
            Files.delete(path);
            try (ServerSocketChannel fresh = bind(path)) {
                assertFalse(own.removeIfOurs(), "removed the new daemon's socket");
                assertTrue(Files.exists(path));
            }
        }
    }

    private static ServerSocketChannel bind(Path path) throws Exception {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(path));
        return s;
    }
}
