package io.jshim.stdio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StdioNativeTest {
    @TempDir
    Path dir;

    @Test
    void writingToAReaderlessFifoIsEpipeNotSigpipe() throws Exception {
        String fifo = Harness.fifo(dir, "f");
        int reader = StdioNative.open(fifo, StdioNative.O_RDONLY | StdioNative.O_NONBLOCK, 0);
        int writer = StdioNative.open(fifo, StdioNative.O_WRONLY, 0); // blocking writer: the copier case that matters
        StdioNative.close(reader);
        ErrnoException e = assertThrows(ErrnoException.class, () -> StdioNative.writeFully(writer, new byte[] {1, 2, 3}));
        assertEquals(StdioNative.EPIPE, e.errno());
        assertTrue(e.getMessage().contains("Broken pipe"), e.getMessage());
        StdioNative.close(writer);
        // Reaching this line is the point: HotSpot ignores SIGPIPE, the JVM did not die.
    }

    @Test
    void openFailuresNameThePathAndErrno() {
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> StdioNative.open(dir.resolve("missing").toString(), StdioNative.O_RDONLY, 0));
        assertEquals(2, e.errno());
        assertTrue(e.getMessage().contains(dir.resolve("missing").toString()));
    }

    @Test
    void ourFdsAreCloseOnExec() throws Exception {
        int[] p = StdioNative.pipe();
        try {
            assertTrue(StdioNative.isCloseOnExec(p[0]) && StdioNative.isCloseOnExec(p[1]));
            int f = StdioNative.open("/dev/null", StdioNative.O_RDONLY, 0);
            assertTrue(StdioNative.isCloseOnExec(f));
            StdioNative.close(f);
        } finally {
            StdioNative.close(p[0]);
            StdioNative.close(p[1]);
        }
    }
}
