package io.jshim.shim.standby;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The handover message as the launcher's perl writes it, and what is refused. */
class HandoverTest {
    private static final String WHOLE = "jshim-handover 1\0fd=3\0namespace=ns\0id=c1\0address=/run/c.sock\0"
            + "publish-binary=/usr/bin/containerd\0socket=/run/containerd/s/abc\0bundle=/b/ns/c1\0debug=-debug\0"
            + "env=PATH=/bin:/usr/bin\0env=JSHIM_X=a=b\0end\0";

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aWholeMessageParses() throws Exception {
        Handover h = Handover.parse(bytes(WHOLE));
        assertEquals(3, h.fd());
        assertEquals("ns", h.namespace());
        assertEquals("c1", h.id());
        assertEquals("/run/c.sock", h.address());
        assertEquals(Path.of("/run/containerd/s/abc"), h.socket());
        assertEquals(Path.of("/b/ns/c1"), h.bundle());
        assertTrue(h.debug());
        assertEquals(Map.of("PATH", "/bin:/usr/bin", "JSHIM_X", "a=b"), h.env());
    }

    @Test
    void completeMeansTheEndRecordArrived() {
        byte[] whole = bytes(WHOLE);
        assertTrue(Handover.complete(whole, whole.length));
        assertFalse(Handover.complete(whole, whole.length - 1));
        assertFalse(Handover.complete(whole, 10));
    }

    @Test
    void malformedMessagesSayWhatIsWrong() {
        assertMalformed("not a jshim handover", "hello\0end\0");
        assertMalformed("partial handover", WHOLE.substring(0, WHOLE.length() - 5) + "\0");
        assertMalformed("partial handover: no final NUL", "jshim-handover 1\0fd=3");
        assertMalformed("unknown field 'nonsense'", WHOLE.replace("debug=-debug", "nonsense=1"));
        assertMalformed("missing field(s) [debug]", WHOLE.replace("debug=-debug\0", ""));
        assertMalformed("field fd given twice", WHOLE.replace("fd=3\0", "fd=3\0fd=4\0"));
        assertMalformed("fd is not a number", WHOLE.replace("fd=3", "fd=three"));
        assertMalformed("empty field namespace", WHOLE.replace("namespace=ns", "namespace="));
        assertMalformed("must be absolute", WHOLE.replace("bundle=/b/ns/c1", "bundle=b"));
        assertMalformed("env record", WHOLE.replace("env=PATH=/bin:/usr/bin", "env=PATH"));
        assertMalformed("debug is neither", WHOLE.replace("debug=-debug", "debug=yes"));
    }

    @Test
    void theIdleLimitReadsSecondsOrAUnit() {
        assertEquals(Duration.ofMinutes(15), StandbySettings.idle(null));
        assertEquals(Duration.ofMinutes(15), StandbySettings.idle(""));
        assertEquals(Duration.ofSeconds(90), StandbySettings.idle("90"));
        assertEquals(Duration.ofSeconds(90), StandbySettings.idle("90s"));
        assertEquals(Duration.ofMinutes(2), StandbySettings.idle("2m"));
        assertEquals(Duration.ofHours(1), StandbySettings.idle("1h"));
        assertThrows(IllegalArgumentException.class, () -> StandbySettings.idle("0"));
        assertThrows(IllegalArgumentException.class, () -> StandbySettings.idle("5d"));
        assertThrows(IllegalArgumentException.class, () -> StandbySettings.idle("soon"));
    }

    private static void assertMalformed(String expected, String message) {
        Handover.MalformedException e = assertThrows(Handover.MalformedException.class,
                () -> Handover.parse(bytes(message)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
