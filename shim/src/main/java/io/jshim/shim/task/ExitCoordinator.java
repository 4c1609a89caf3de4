package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskExit;
import io.jshim.reaper.Exit;
import io.jshim.reaper.Pidfd;
import io.jshim.reaper.Subscription;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.TaskProcess;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the exit truth: matches every reaped exit to the process it ends and publishes the TaskExits in an
 * order a container manager can trust (containerd-shim-runc-v2 task/service.go: "handle pending execs as running"):
 * <ol>
 * <li>every started process gets exactly one TaskExit, a process whose start failed none;</li>
 * <li>a process's start event is queued before its exit, even when it exits before Create/Start returns;</li>
 * <li>a container's init exit is stashed until every exec that was started, or is being started, has had its
 * TaskExit published;</li>
 * <li>once the init has exited, exec starts are refused with FailedPrecondition;</li>
 * <li>without a private PID namespace, the init's exit kills what is left of the container;</li>
 * <li>an exit is reported only once the process's output is drained (bounded by {@link #DRAIN_LIMIT});</li>
 * <li>publication is the commit point: one step ({@link #commit}) queues the TaskExit, after the TaskOOM of any
 * OOM kill that caused it, and marks the process exited, so Wait, State, Delete and Kill never see an exit whose
 * TaskExit is not queued, and a TaskDelete (queued only once Delete sees the init stopped) always follows it.</li>
 * </ol>
 *
 * <p>{@link #lock}, the lifecycle lock, guards the tables below and the {@link InitExitStash}. It is held for map
 * operations only: never across runc, a drain or a publish. The work after an exit (kill-all, drain, publish) runs on the
 * container's own exit lane, so one container's slow drain never holds up another's exits.
 */
public final class ExitCoordinator {
    private static final Logger log = LoggerFactory.getLogger(ExitCoordinator.class);
    /** How long an exit waits for its output to drain; a grandchild still holding the pipe must not stall it forever. */
    static final Duration DRAIN_LIMIT = Duration.ofSeconds(5);


    private final Consumer<ProtoMessage> publisher;
    private final Executor workers;
    private final KillAll killAll;
    private final Pidfds pidfds;

    private final ReentrantLock lock = new ReentrantLock();
    /** Processes whose start event is queued and whose exit has not been seen, by pid. Guarded by {@link #lock}. */
    private final Map<Integer, List<TaskProcess>> running = new HashMap<>();
    /** The init's exit, once reaped: refuses exec starts. Guarded by {@link #lock}. */
    private final Map<Container, Exit> initExits = new HashMap<>();
    /** The running-exec counts and the init exits they hold back. Guarded by {@link #lock}. */
    private final InitExitStash stash = new InitExitStash();
    /** Creates and Starts in flight, each collecting every exit seen meanwhile. Guarded by {@link #lock}. */
    private final Set<StartWatch> watches = new HashSet<>();
    /** Each container's exit lane. Guarded by {@link #lock}. */
    private final Map<Container, SerialExecutor> lanes = new HashMap<>();

    /**
     * @param publisher appends to the shim's one ordered event queue
     * @param workers runs the exit lanes (virtual threads: they wait on drains and runc)
     */
    public ExitCoordinator(Consumer<ProtoMessage> publisher, Executor workers) {
        this(publisher, workers, KillAll.RUNC, Pidfd::open);
    }

    /** As above, with what ends the rest of a container without a private PID namespace and opens pidfds (fakes in tests). */
    ExitCoordinator(Consumer<ProtoMessage> publisher, Executor workers, KillAll killAll, Pidfds.Opener pidfds) {
        this.publisher = publisher;
        this.workers = workers;
        this.killAll = killAll;
        this.pidfds = new Pidfds(pidfds);
    }

    /** The subscription {@link #onExit} is called through: {@link #pidLearned} waits on it (see {@link Pidfds}). */
    public void attach(Subscription exitSubscription) {
        pidfds.attach(exitSubscription);
    }

    /** An in-flight Create or Start: the exits seen while runc ran. Its fields are guarded by the coordinator's lock. */
    public static final class StartWatch {
        private final Container container;
        private final List<Exit> seen = new ArrayList<>();

        private StartWatch(Container container) {
            this.container = container;
        }

        private Exit exitOf(int pid) {
            for (Exit e : seen) {
                if (e.pid() == pid) {
                    return e;
                }
            }
            return null;
        }
    }

    // ---- the reaper's side -------------------------------------------------------------------------------

    /** Every exit the reaper sees, in reaping order (called on the coordinator's subscription thread). */
    public void onExit(Exit exit) {
        List<TaskProcess> ended;
        lock.lock();
        try {
            for (StartWatch w : watches) {
                w.seen.add(exit);
            }
            ended = running.remove(exit.pid());
            if (ended == null) {
                return; // runc itself, a runc helper, or a process whose start is being handled by its watch
            }
            for (TaskProcess p : ended) {
                if (p.isInit()) {
                    initExits.put(p.container(), exit);
                }
            }
        } finally {
            lock.unlock();
        }
        for (TaskProcess p : ended) {
            dispatch(p, exit);
        }
    }

    private void dispatch(TaskProcess p, Exit exit) {
        Executor lane = laneOf(p.container());
        switch (p) {
            case InitProcess init -> lane.execute(() -> handleInitExit(init, exit));
            case ExecProcess exec -> lane.execute(() -> finishExec(exec, exit));
        }
    }

    private Executor laneOf(Container c) {
        lock.lock();
        try {
            return lanes.computeIfAbsent(c, k -> new SerialExecutor(workers));
        } finally {
            lock.unlock();
        }
    }

    // ---- Create and Start ---------------------------------------------------------------------------------

    /** Before {@code runc create}: collect exits from now on. */
    public StartWatch beginCreate(Container c) {
        return watch(new StartWatch(c));
    }

    /** After the TaskCreate is queued: the init is running, or its early exit is handled now. */
    public void initCreated(StartWatch w, InitProcess init) {
        settleStarted(w, init);
    }

    public void createFailed(StartWatch w) {
        unwatch(w);
    }

    /**
     * Before {@code runc start}: the init leaves {@link #running} so that an exit during the call is held by the
     * watch and handled only after the TaskStart is queued.
     */
    public StartWatch beginInitStart(InitProcess init) {
        lock.lock();
        try {
            Container c = init.container();
            if (initExits.containsKey(c)) {
                throw io.jshim.shim.ShimException.unknown("cannot start a stopped process");
            }
            List<TaskProcess> at = running.get(init.pid());
            if (at != null) {
                at.remove(init);
                if (at.isEmpty()) {
                    running.remove(init.pid());
                }
            }
            StartWatch w = new StartWatch(c);
            watches.add(w);
            return w;
        } finally {
            lock.unlock();
        }
    }

    /** After the TaskStart is queued, or after runc start failed (the created init still exists or has exited). */
    public void initStartSettled(StartWatch w, InitProcess init) {
        settleStarted(w, init);
    }

    /**
     * runc's pid file named the process: sets its pid and opens its pidfd, held until the exit is committed (Kill
     * signals through it); dropped if {@code w} saw the pid exit before the open (it may name another process).
     */
    public void pidLearned(StartWatch w, TaskProcess p, int pid) {
        p.setPid(pid);
        Pidfds.Opened opened = pidfds.open(p, pid);
        boolean exited;
        lock.lock();
        try {
            exited = w.exitOf(pid) != null;
        } finally {
            lock.unlock();
        }
        if (exited && opened.fd() != null) {
            opened.fd().close();
        }
        p.holdPidfd(exited ? null : opened.fd(), exited || opened.reaped());
    }

    /** Before {@code runc exec}: refused once the init has exited; otherwise counted as running from now on. */
    public StartWatch beginExecStart(Container c) {
        lock.lock();
        try {
            if (initExits.containsKey(c)) {
                throw io.jshim.shim.ShimException.failedPrecondition(
                        "container " + c.id() + " init process is not running: failed precondition");
            }
            stash.execStarting(c);
            StartWatch w = new StartWatch(c);
            watches.add(w);
            return w;
        } finally {
            lock.unlock();
        }
    }

    /** After the TaskExecStarted is queued. */
    public void execStarted(StartWatch w, ExecProcess exec) {
        settleStarted(w, exec);
    }

    /** The exec never started: no TaskExit for it, and it no longer holds back the init's exit. */
    public void execStartFailed(StartWatch w) {
        Exit releasedInit;
        lock.lock();
        try {
            watches.remove(w);
            releasedInit = stash.execGone(w.container);
        } finally {
            lock.unlock();
        }
        if (releasedInit != null) {
            Container c = w.container;
            laneOf(c).execute(() -> finishInit(c.init(), releasedInit));
        }
    }

    private StartWatch watch(StartWatch w) {
        lock.lock();
        try {
            watches.add(w);
            return w;
        } finally {
            lock.unlock();
        }
    }

    private void unwatch(StartWatch w) {
        lock.lock();
        try {
            watches.remove(w);
        } finally {
            lock.unlock();
        }
    }

    private void settleStarted(StartWatch w, TaskProcess p) {
        Exit early;
        lock.lock();
        try {
            watches.remove(w);
            early = w.exitOf(p.pid());
            if (early == null) {
                running.computeIfAbsent(p.pid(), k -> new ArrayList<>(1)).add(p);
            } else if (p.isInit()) {
                initExits.put(p.container(), early);
            }
        } finally {
            lock.unlock();
        }
        if (early != null) {
            log.debug("[{} {}] exited (pid {}, status {}) before its start returned", p.container().id(),
                    p.execId() == null ? "" : p.execId(), early.pid(), early.status());
            dispatch(p, early);
        }
    }

    // ---- after an exit, on the container's lane -----------------------------------------------------------

    private void handleInitExit(InitProcess init, Exit exit) {
        Container c = init.container();
        if (c.killAllOnInitExit()) {
            killAll.afterInitExit(c); // no private PID namespace: nothing else will end what is left
        }
        boolean now;
        lock.lock();
        try {
            now = !stash.stashIfExecsRun(c, exit);
        } finally {
            lock.unlock();
        }
        if (now) {
            finishInit(init, exit);
        } else {
            log.debug("[{}] init exit stashed until the running execs have exited", c.id());
        }
    }

    private void finishExec(ExecProcess exec, Exit exit) {
        Container c = exec.container();
        Drain.await(exec, DRAIN_LIMIT);
        commit(exec, exit);
        Exit releasedInit;
        lock.lock();
        try {
            releasedInit = stash.execGone(c);
        } finally {
            lock.unlock();
        }
        if (releasedInit != null) {
            finishInit(c.init(), releasedInit); // already on this container's lane
        }
    }

    private void finishInit(InitProcess init, Exit exit) {
        Container c = init.container();
        Drain.await(init, DRAIN_LIMIT);
        try {
            ExitFile.write(c.bundle(), new ExitStatus(exit.status(), exit.at()));
        } catch (IOException e) {
            log.warn("[{}] cannot record the init exit in the bundle: {}", c.id(), e.getMessage());
        }
        commit(init, exit);
    }

    /**
     * The one place an exit becomes true for every observer: the TaskExit is queued and the process marked
     * exited in one step ({@link TaskProcess#commitExit}), after the TaskOOM of any OOM kill the kernel has counted
     * (the watcher's sync may wait, so it runs first, outside every lock).
     */
    private void commit(TaskProcess p, Exit exit) {
        Container c = p.container();
        c.reportPendingOomKills();
        TaskExit event = TaskExit.newBuilder()
                .setContainerId(c.id())
                .setId(p.id())
                .setPid(exit.pid())
                .setExitStatus(exit.status())
                .setExitedAt(Event.toTimestamp(exit.at()))
                .build();
        if (p.commitExit(new ExitStatus(exit.status(), exit.at()), () -> publisher.accept(event))) {
            log.info("[{} {}] exited: pid {} status {}", c.id(), p.execId() == null ? "" : p.execId(), exit.pid(),
                    exit.status());
        }
    }

    // ---- Delete -------------------------------------------------------------------------------------------

    /** The container is deleted: drop what is kept for it. */
    public void forget(Container c) {
        lock.lock();
        try {
            initExits.remove(c);
            stash.forget(c);
            lanes.remove(c);
            running.values().forEach(list -> list.removeIf(p -> p.container() == c));
            running.values().removeIf(List::isEmpty);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the init has been reaped (its TaskExit may still be stashed). */
    public boolean initExited(Container c) {
        lock.lock();
        try {
            return initExits.containsKey(c);
        } finally {
            lock.unlock();
        }
    }
}
