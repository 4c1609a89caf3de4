package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** {@code start}, {@code delete} and the daemon refuse to run on another architecture, naming it. */
class ArchGuardTest {

    @Test
    void everyActionButEventsAndVersionIsRefusedOnAnotherArchitecture() throws Exception {
        String arch = System.getProperty("os.arch");
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        System.setProperty("os.arch", "aarch64");
        try {
            for (String action : new String[] {"start", "delete", ""}) {
                String[] argv = action.isEmpty()
                        ? new String[] {"-namespace", "ns", "-id", "c1", "-address", "/nonexistent.sock"}
                        : new String[] {"-namespace", "ns", "-id", "c1", "-address", "/nonexistent.sock", action};
                var e = assertThrows(UnsupportedOperationException.class, () -> Main.run(argv, out, out),
                        "action '" + action + "'");
                assertTrue(e.getMessage().contains("x86-64 only, not on aarch64"), e.getMessage());
            }
            assertEquals(0, Main.run(new String[] {"-v"}, out, out));
        } finally {
            System.setProperty("os.arch", arch);
        }
    }
}
