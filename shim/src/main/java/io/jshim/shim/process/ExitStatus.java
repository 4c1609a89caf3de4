package io.jshim.shim.process;

import java.time.Instant;

/** How a process ended, as Wait, State, Delete and TaskExit report it: exit code or 128+signal, and when. */
public record ExitStatus(int status, Instant at) {}
