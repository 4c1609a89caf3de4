package io.jshim.reaper;

import java.time.Instant;

/**
 * One child's end, as reaped.
 *
 * @param pid    the reaped pid (already free for reuse by the kernel when you see this)
 * @param status the exit code, or 128 + signal number when the child was killed by a signal
 *               (SIGKILL → 137, SIGTERM → 143), as a shell reports it
 * @param at     when the reaper collected it
 */
public record Exit(int pid, int status, Instant at) {

    /** Decodes a wait status as waitpid(2) returns it (WIFEXITED / WIFSIGNALED). */
    static int statusOf(int waitStatus) {
        int termSignal = waitStatus & 0x7f;
        if (termSignal == 0) {
            return (waitStatus >> 8) & 0xff; // WEXITSTATUS
        }
        return 128 + termSignal; // WTERMSIG; stopped/continued never reach us (no WUNTRACED/WCONTINUED)
    }
}
