package io.jshim.reaper;

import java.nio.charset.StandardCharsets;

/** What {@link Monitor#run} collected: the child's exit and everything it wrote to stdout/stderr. */
public record CommandResult(Exit exit, byte[] stdout, byte[] stderr) {

    /** The exit code, or 128 + signal. */
    public int status() {
        return exit.status();
    }

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }
}
