package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** JSHIM_READY_FD is closed only when it names an fd above stdio: what the regex [3-9]|[1-9][0-9]+ accepted. */
class DaemonReadyFdTest {
    @Test
    void acceptsWhatTheRegexAccepted() {
        String[] values = {null, "", "0", "1", "2", "3", "9", "10", "03", "99", "123456", "-3", "+3", "3 ", " 3", "3a",
            "a", "\u0663", "1\u0660", "00"};
        for (String v : values) {
            boolean regex = v != null && v.matches("[3-9]|[1-9][0-9]+");
            assertEquals(regex, Daemon.isFdAbove2(v), "'" + v + "'");
        }
    }
}
