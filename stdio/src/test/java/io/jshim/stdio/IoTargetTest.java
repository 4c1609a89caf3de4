package io.jshim.stdio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the stdio strings are read: the scheme of stdout decides, parsed as Go's url.Parse does. */
class IoTargetTest {
    @TempDir
    Path dir;

    private static IoTarget of(String stdout) throws StdioSchemeException {
        return IoTarget.of(new StdioSpec("", stdout, "", false));
    }

    @Test
    void plainPathsAreFifos() throws Exception {
        assertInstanceOf(IoTarget.Fifo.class, of("/run/containerd/fifo/123/c1-stdout"));
        assertInstanceOf(IoTarget.Fifo.class, of("relative/path"));
        assertInstanceOf(IoTarget.Fifo.class, of("1abc:def")); // a digit first: no scheme
        assertInstanceOf(IoTarget.Fifo.class, of("fifo:///x"));
        assertInstanceOf(IoTarget.Null.class, IoTarget.of(new StdioSpec("", "", "", false)));
        assertInstanceOf(IoTarget.Null.class, IoTarget.of(new StdioSpec(null, null, null, true)));
        assertTrue(new StdioSpec(null, "", null, false).isNull());
    }

    @Test
    void theSchemeComesFromStdoutOnly() throws Exception {
        assertInstanceOf(IoTarget.Fifo.class, IoTarget.of(new StdioSpec("", "/out", "bogus://x", false)));
        assertInstanceOf(IoTarget.Null.class, IoTarget.of(new StdioSpec("", "", "", false)));
    }

    @Test
    void fileUrisGiveTheUnescapedPath() throws Exception {
        assertEquals(new IoTarget.File("/var/log/c 1.log"), of("file:///var/log/c%201.log"));
        assertEquals(new IoTarget.File("/var/log/x.log"), of("FILE://host/var/log/x.log"));
        assertEquals(new IoTarget.File("/a/b"), of("file:/a/b"));
    }

    @Test
    void binaryUrisGiveArgumentsInOrder() throws Exception {
        IoTarget.Binary b = (IoTarget.Binary) of("binary:///usr/bin/logger?id=abc&mode=fast+mode&k=v%3D1&id=second&flag");
        assertEquals("/usr/bin/logger", b.path());
        assertEquals(List.of("/usr/bin/logger", "id", "abc", "mode", "fast mode", "k", "v=1", "flag", ""),
                LoggerProcess.argv(b));
        assertEquals(false, b.strictReady());
        assertEquals(true, ((IoTarget.Binary) of("binary-v2:///l")).strictReady());
    }

    @Test
    void unknownSchemesAreRejected() {
        StdioSchemeException e = assertThrows(StdioSchemeException.class, () -> of("foo://bar"));
        assertEquals("unknown STDIO scheme foo", e.getMessage());
        assertEquals("unable to parse stdout uri: missing protocol scheme",
                assertThrows(StdioSchemeException.class, () -> of(":x")).getMessage());
        assertThrows(StdioSchemeException.class, () -> of("binary://"));
        assertThrows(StdioSchemeException.class, () -> of("file:///bad%zz"));
    }

    @Test
    void prepareRejectsAnUnknownSchemeBeforeOpeningAnything() throws Exception {
        var before = Harness.openFds();
        StdioSchemeException e = assertThrows(StdioSchemeException.class,
                () -> ProcessIO.prepare(new StdioSpec("", "tcp://1.2.3.4:5", "", false), Harness.context(dir)));
        assertEquals("unknown STDIO scheme tcp", e.getMessage());
        assertEquals(before, Harness.openFds());
    }
}
