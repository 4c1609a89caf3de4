package io.jshim.stdio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeTest {
    @TempDir
    Path dir;

    @Test
    void writingToAReaderlessFifoIsEpipeNotSigpipe() throws Exception {
        String fifo = Harness.fifo(dir, "f");
        int reader = Native.open(fifo, Native.O_RDONLY | Native.O_NONBLOCK, 0);
        int writer = Native.open(fifo, Native.O_WRONLY, 0); // blocking writer: the copier case that matters
        Native.close(reader);
        ErrnoException e = assertThrows(ErrnoException.class, () -> Native.writeFully(writer, new byte[] {1, 2, 3}));
        assertEquals(Native.EPIPE, e.errno());
        assertTrue(e.getMessage().contains("Broken pipe"), e.getMessage());
        Native.close(writer);
        // Reaching this line is the point: HotSpot ignores SIGPIPE, the JVM did not die.
    }

    @Test
    void openFailuresNameThePathAndErrno() {
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> Native.open(dir.resolve("missing").toString(), Native.O_RDONLY, 0));
        assertEquals(2, e.errno());
        assertTrue(e.getMessage().contains(dir.resolve("missing").toString()));
    }

    @Test
    void ourFdsAreCloseOnExec() throws Exception {
        int[] p = Native.pipe();
        try {
            assertTrue(Native.isCloseOnExec(p[0]) && Native.isCloseOnExec(p[1]));
            int f = Native.open("/dev/null", Native.O_RDONLY, 0);
            assertTrue(Native.isCloseOnExec(f));
            Native.close(f);
        } finally {
            Native.close(p[0]);
            Native.close(p[1]);
        }
    }
}
