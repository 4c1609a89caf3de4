package io.jshim.shim.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExporterCommandTest {
    @Test
    void listenAndTimeout() throws Exception {
        assertEquals(new ExporterCommand.Options(new InetSocketAddress("127.0.0.1", 9465), Duration.ofSeconds(2)),
                ExporterCommand.parse(List.of()));
        assertEquals(new ExporterCommand.Options(new InetSocketAddress("::1", 80), Duration.ofMillis(500)),
                ExporterCommand.parse(List.of("--listen", "[::1]:80", "-timeout=500ms")));
        assertEquals(Duration.ofMillis(1500), ExporterCommand.parse(List.of("--timeout", "1.5s")).timeout());
    }

    @Test
    void badArgumentsAreRefusedClearly() {
        for (List<String> bad : List.of(List.of("--listen", ":9465"), List.of("--listen", "127.0.0.1"),
                List.of("--listen", "127.0.0.1:70000"), List.of("--timeout", "0s"), List.of("--timeout", "soon"),
                List.of("--port", "1"), List.of("--listen"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ExporterCommand.parse(bad), bad.toString());
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("exporter: "), e.getMessage());
        }
    }
}
