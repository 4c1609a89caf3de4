package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

class ArchTest {

    @Test
    void x86_64RunsUnderEitherName() {
        assertEquals(Optional.empty(), Arch.refusal("amd64")); // os.arch
        assertEquals(Optional.empty(), Arch.refusal("x86_64")); // uname -m
    }

    @Test
    void anyOtherArchitectureIsRefusedByName() {
        for (String arch : new String[] {"aarch64", "arm64", "riscv64", "ppc64le", "s390x", "x86", "i386"}) {
            String message = Arch.refusal(arch).orElseThrow(() -> new AssertionError(arch + " was accepted"));
            assertTrue(message.contains("not on " + arch + ":"), message);
            assertTrue(message.contains("x86-64 only"), message);
        }
        assertTrue(Arch.refusal(null).orElseThrow().contains("an unknown architecture"));
        assertTrue(Arch.refusal("").orElseThrow().contains("an unknown architecture"));
    }

    @Test
    void requireFollowsThisJvmsArchitecture() {
        String arch = System.getProperty("os.arch");
        if (Arch.refusal(arch).isEmpty()) {
            Arch.require();
        } else {
            var e = assertThrows(UnsupportedOperationException.class, Arch::require);
            assertTrue(e.getMessage().contains(arch), e.getMessage());
        }
    }
}
