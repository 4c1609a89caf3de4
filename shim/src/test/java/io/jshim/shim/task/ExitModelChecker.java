package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.events.TaskOOM;
import io.jshim.shim.process.TaskProcess;
import io.jshim.shim.process.ProcessStatus;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The invariants of the exit path (containerd's TLA+ model of the runc shim, ShimEventsNoStartBeforeExit,
 * ExitForEveryTask, InitExitAlwaysPublished, and the card), checked on each event as it is queued and on the
 * observers' answers after every step of an {@link ExitModel}:
 * <ol>
 * <li>a process's TaskCreate (init) or TaskExecStarted (exec) is queued before its TaskExit;</li>
 * <li>exactly one TaskExit per started process, none for a process that never started;</li>
 * <li>every started exec's TaskExit before its container's init TaskExit;</li>
 * <li>no exec started after its init's TaskExit;</li>
 * <li>the TaskOOM of an OOM kill before the TaskExit it caused;</li>
 * <li>TaskDelete after the init's TaskExit;</li>
 * <li>Wait, State and Delete never report an exit whose TaskExit is not queued.</li>
 * </ol>
 */
final class ExitModelChecker {
    private final ExitModel model;
    /** Every process of the schedule, by "container/id", with what the events said of it. */
    private final Map<String, Seen> seen = new LinkedHashMap<>();
    private final Map<TaskProcess, String> keys = new HashMap<>();
    private final Set<String> initExited = new HashSet<>();
    private final Map<String, Integer> lastOom = new HashMap<>();

    static final class Seen {
        final TaskProcess p;
        boolean started;
        int exits;
        boolean neverStarted;
        /** Index of the event queue when an OOM kill hit it; -1 for none. */
        int oomKillAt = -1;

        Seen(TaskProcess p) {
            this.p = p;
        }
    }

    ExitModelChecker(ExitModel model) {
        this.model = model;
    }

    void known(TaskProcess p) {
        String key = p.container().id() + "/" + p.id();
        keys.put(p, key);
        seen.put(key, new Seen(p));
    }

    void neverStarted(TaskProcess p) {
        seen.get(keys.get(p)).neverStarted = true;
    }

    void oomKilled(TaskProcess p) {
        seen.get(keys.get(p)).oomKillAt = model.events.size();
    }

    private void fail(String what) {
        throw new AssertionError(what);
    }

    void onEvent(ProtoMessage m, int index) {
        switch (m) {
            case TaskCreate e -> seen.get(e.getContainerId() + "/" + e.getContainerId()).started = true;
            case TaskExecStarted e -> {
                if (initExited.contains(e.getContainerId())) {
                    fail("exec " + e.getExecId() + " started after the init of " + e.getContainerId() + " exited");
                }
                seen.get(e.getContainerId() + "/" + e.getExecId()).started = true;
            }
            case TaskExit e -> {
                String c = e.getContainerId();
                Seen s = seen.get(c + "/" + e.getId());
                if (s == null || !s.started) {
                    fail("TaskExit of " + c + "/" + e.getId() + " before its start (or it never started)");
                }
                if (++s.exits > 1) {
                    fail("a second TaskExit for " + c + "/" + e.getId());
                }
                if (s.oomKillAt >= 0 && lastOom.getOrDefault(c, -1) < s.oomKillAt) {
                    fail("TaskExit of " + c + "/" + e.getId() + " without the TaskOOM of the kill that caused it");
                }
                if (e.getId().equals(c)) {
                    for (Seen other : seen.values()) {
                        if (!other.p.isInit() && other.p.container().id().equals(c) && other.started && other.exits == 0) {
                            fail("init of " + c + " exited before its exec " + other.p.id());
                        }
                    }
                    initExited.add(c);
                }
            }
            case TaskOOM e -> lastOom.put(e.getContainerId(), index);
            case TaskDelete e -> {
                Seen init = seen.get(e.getContainerId() + "/" + e.getContainerId());
                if (init.started && init.exits == 0) {
                    fail("TaskDelete of " + e.getContainerId() + " before its TaskExit");
                }
            }
            default -> {
            }
        }
    }

    /** Delete (and State) answered with {@code p}'s exit: its TaskExit must be queued if it says one. */
    void observe(TaskProcess p, String who) {
        Seen s = seen.get(keys.get(p));
        boolean reportsExit = p.exit().isPresent() || p.status() == ProcessStatus.STOPPED
                || (p.onExit().isDone() && !s.neverStarted);
        if (reportsExit && s.exits == 0) {
            fail(who + " reports the exit of " + keys.get(p) + " before its TaskExit is queued");
        }
    }

    /** After every step: what State and Wait would answer for every process. */
    void afterStep() {
        for (Seen s : seen.values()) {
            if (s.p.status() != ProcessStatus.DELETED) {
                observe(s.p, s.p.onExit().isDone() ? "Wait" : "State");
            }
        }
    }

    /** At the end, with every process dead and everything delivered: one TaskExit per started process. */
    void atEnd() {
        for (Map.Entry<String, Seen> e : seen.entrySet()) {
            Seen s = e.getValue();
            if (s.started && s.exits != 1) {
                fail(e.getKey() + " started and has " + s.exits + " TaskExits");
            }
        }
    }
}
