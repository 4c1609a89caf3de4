package io.jshim.shim.task;

import io.jshim.reaper.Exit;
import io.jshim.shim.process.Container;
import java.util.HashMap;
import java.util.Map;

/**
 * What holds back an init's exit: each container's count of execs started or being started whose TaskExit is not yet
 * queued, and the init exits waiting for that count to reach zero (containerd-shim-runc-v2 task/service.go: "handle
 * pending execs as running"). Not thread-safe: both tables are guarded by the {@link ExitCoordinator}'s lock, which
 * every caller holds.
 */
final class InitExitStash {
    /** Execs counted from the moment their Start began until their TaskExit is queued. */
    private final Map<Container, Integer> runningExecs = new HashMap<>();
    /** Init exits waiting for the running-exec count to reach zero. */
    private final Map<Container, Exit> stashed = new HashMap<>();

    /** An exec's Start began: it counts as running from now on. */
    void execStarting(Container c) {
        runningExecs.merge(c, 1, Integer::sum);
    }

    /** One exec less; returns the stashed init exit to finish if that was the last, else null. */
    Exit execGone(Container c) {
        int left = runningExecs.merge(c, -1, Integer::sum);
        if (left > 0) {
            return null;
        }
        runningExecs.remove(c);
        return stashed.remove(c);
    }

    /** Stashes the init's {@code exit} if execs still run (true), or leaves it to be finished now (false). */
    boolean stashIfExecsRun(Container c, Exit exit) {
        if (runningExecs.getOrDefault(c, 0) == 0) {
            return false;
        }
        stashed.put(c, exit);
        return true;
    }

    /** The container is deleted. */
    void forget(Container c) {
        runningExecs.remove(c);
        stashed.remove(c);
    }
}
