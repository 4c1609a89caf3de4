package io.jshim.stdio;

import java.util.Objects;

/**
 * The stdio strings of a Create/Exec request. An empty string means that stream is absent
 * (null is taken as empty). The scheme (none/fifo, file://, binary://) comes from stdout only.
 */
public record StdioSpec(String stdin, String stdout, String stderr, boolean terminal) {
    public StdioSpec {
        stdin = Objects.requireNonNullElse(stdin, "");
        stdout = Objects.requireNonNullElse(stdout, "");
        stderr = Objects.requireNonNullElse(stderr, "");
    }

    /** All three streams absent: runc gets /dev/null (unless terminal, which still needs a console). */
    public boolean isNull() {
        return stdin.isEmpty() && stdout.isEmpty() && stderr.isEmpty();
    }
}
