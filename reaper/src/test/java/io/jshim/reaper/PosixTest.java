package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixTest {

    @Test
    void identity() throws Exception {
        assertEquals(ProcessHandle.current().pid(), Posix.getpid());
        assertEquals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"), Posix.geteuid());
        assertEquals(Files.getAttribute(Path.of("/proc/self"), "unix:gid"), Posix.getegid());
    }

    @Test
    void pipeReadWriteAtOffsetsAndEof() throws Exception {
        int[] p = Posix.pipe();
        try {
            assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + p[0])).toString().startsWith("pipe:"));
            assertTrue(Files.readString(Path.of("/proc/self/fdinfo/" + p[0])).contains("flags:\t02"),
                    "O_CLOEXEC set");
            byte[] src = "xxhelloyy".getBytes(StandardCharsets.US_ASCII);
            assertEquals(5, Posix.write(p[1], src, 2, 5));
            Posix.close(p[1]);
            byte[] dst = new byte[10];
            assertEquals(5, Posix.read(p[0], dst, 3, 7));
            assertArrayEquals("\0\0\0hello\0\0".getBytes(StandardCharsets.US_ASCII), dst);
            assertEquals(-1, Posix.read(p[0], dst, 0, 10));
        } finally {
            Posix.close(p[0]);
            Posix.close(p[1]); // already closed: EBADF is ignored
        }
    }

    @Test
    void nonBlockingReadOfAnEmptyPipeFailsWithEagain() throws Exception {
        int[] p = Posix.pipe();
        try {
            Posix.setNonBlocking(p[0], true);
            PosixException e = assertThrows(PosixException.class, () -> Posix.read(p[0], new byte[1], 0, 1));
            assertEquals("EAGAIN", e.errnoName());
            Posix.setNonBlocking(p[0], false);
            assertFalse(Files.readString(Path.of("/proc/self/fdinfo/" + p[0])).contains("flags:\t02004"));
        } finally {
            Posix.close(p[0]);
            Posix.close(p[1]);
        }
    }

    @Test
    void openCreatesAndFailsWithErrnoText(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("f");
        int fd = Posix.open(f.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC | Posix.O_CLOEXEC, 0640);
        try {
            byte[] data = "abc".getBytes(StandardCharsets.US_ASCII);
            Posix.write(fd, data, 0, 3);
            Posix.fchown(fd, 1234, 4321);
        } finally {
            Posix.close(fd);
        }
        assertEquals("abc", Files.readString(f));
        assertEquals(1234, Files.getAttribute(f, "unix:uid"));
        assertEquals(4321, Files.getAttribute(f, "unix:gid"));
        PosixException e = assertThrows(PosixException.class,
                () -> Posix.open(dir.resolve("missing").toString(), Posix.O_RDONLY, 0));
        assertEquals(2, e.errno());
        assertTrue(e.getMessage().endsWith("missing: No such file or directory (ENOENT)"), e.getMessage());
    }

    @Test
    void fifo(@TempDir Path dir) throws Exception {
        String path = dir.resolve("fifo").toString();
        Posix.mkfifo(path, 0600);
        assertTrue(Posix.isFifo(path));
        assertFalse(Posix.isFifo(dir.toString()));
        assertFalse(Posix.isFifo(dir.resolve("none").toString()));
        assertEquals("EEXIST", assertThrows(PosixException.class, () -> Posix.mkfifo(path, 0600)).errnoName());
        // Opening the write end without a reader: ENXIO, the case stdio code must handle.
        PosixException noReader = assertThrows(PosixException.class,
                () -> Posix.open(path, Posix.O_WRONLY | Posix.O_NONBLOCK, 0));
        assertEquals("ENXIO", noReader.errnoName());
        int r = Posix.open(path, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
        int w = Posix.open(path, Posix.O_WRONLY | Posix.O_CLOEXEC, 0);
        try {
            Posix.write(w, new byte[] {7}, 0, 1);
            byte[] b = new byte[1];
            assertEquals(1, Posix.read(r, b, 0, 1));
            assertEquals(7, b[0]);
        } finally {
            Posix.close(r);
            Posix.close(w);
        }
    }

    @Test
    void killOfAMissingProcessIsNoSuchProcess() throws Exception {
        Child c = Reaper.get().spawn(SpawnSpec.of("true"));
        c.onExit().get();
        NoSuchProcessException e = assertThrows(NoSuchProcessException.class, () -> Posix.kill(c.pid(), Posix.SIGTERM));
        assertEquals("ESRCH", e.errnoName());
        Posix.kill(Posix.getpid(), 0); // signal 0 checks existence only
    }

    @Test
    void winsizeOnAPtyAndEnottyElsewhere() throws Exception {
        int master = Posix.open("/dev/ptmx", Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC, 0);
        try {
            Posix.setWinsize(master, 42, 132);
            assertArrayEquals(new int[] {42, 132}, Posix.getWinsize(master));
        } finally {
            Posix.close(master);
        }
        int[] p = Posix.pipe();
        try {
            assertEquals("ENOTTY", assertThrows(PosixException.class, () -> Posix.setWinsize(p[0], 1, 1)).errnoName());
        } finally {
            Posix.close(p[0]);
            Posix.close(p[1]);
        }
    }

    @Test
    void subreaperIsSet() throws Exception {
        Reaper.get();
        Posix.prctlSubreaper(); // idempotent
        // PR_GET_CHILD_SUBREAPER = 37 writes an int
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment out = arena.allocate(java.lang.foreign.ValueLayout.JAVA_INT);
            assertEquals(0, Native.prctl(37, out.address(), 0, 0, 0));
            assertEquals(1, out.get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
        }
    }
}
