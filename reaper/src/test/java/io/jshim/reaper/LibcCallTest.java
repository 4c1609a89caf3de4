package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** LibcCall through both its backends: the JNI trampoline (this JVM) and the FFM handle (a JVM without it). */
class LibcCallTest {
    private static final int EBADF = 9;
    private static final int ENOENT = 2;

    @Test
    void theBuildsTrampolineIsWhatTestsCall() {
        // the reaper's build made libjshim_libc.so and the tests' java.library.path finds it, as the installed
        // shim's does: a build that silently fell back to FFM fails here
        assertTrue(LibcCall.usesJni(), "libjshim_libc.so not loaded from " + System.getProperty("java.library.path"));
    }

    @Test
    void resultsAndErrnoThroughTheTrampoline() {
        assertEquals(Probe.expected(), Probe.run());
    }

    @Test
    void theFfmHandleGivesTheSameAnswers() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.library.path=/nonexistent", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName()), null, Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stderrText());
        assertEquals("ffm " + Probe.expected().replace("<pid>", ""), r.stdoutText().trim().replaceAll("pid=\\d+", "pid="));
    }

    @Test
    void anUnknownFunctionIsALinkErrorOnFirstCall() {
        LibcCall nothing = LibcCall.of("jshim_no_such_function");
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(UnsatisfiedLinkError.class, () -> nothing.call(LibcCall.errnoState(arena)));
        }
    }

    @Test
    void aHeapErrnoStateIsRefusedNotWrittenThrough() {
        assertThrows(IllegalArgumentException.class,
                () -> LibcCall.of("getpid").call(MemorySegment.ofArray(new int[1])));
    }

    /** What a JVM's LibcCall answers for getpid, close(-1) and open of a missing file; run here and alone. */
    static final class Probe {
        static String expected() {
            return "pid=<pid> close=-1/" + EBADF + " open=-1/" + ENOENT;
        }

        static String run() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = LibcCall.errnoState(arena);
                long pid = LibcCall.of("getpid").call(state);
                String pidText = pid == ProcessHandle.current().pid() ? "<pid>" : "wrong:" + pid;
                int closed = (int) LibcCall.of("close").call(state, -1);
                int closeErrno = LibcCall.errno(state);
                MemorySegment path = arena.allocateFrom("/nonexistent/jshim");
                int opened = (int) LibcCall.of("open").call(state, path.address(), 0);
                return "pid=" + pidText + " close=" + closed + "/" + closeErrno + " open=" + opened + "/"
                        + LibcCall.errno(state);
            }
        }

        public static void main(String[] args) {
            System.out.println((LibcCall.usesJni() ? "jni " : "ffm ") + run().replace("<pid>", ""));
        }
    }
}
