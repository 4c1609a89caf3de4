package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.cgroups.OomWatcher;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskOOM;
import io.jshim.proto.events.TaskStart;
import io.jshim.proto.runc.Options;
import io.jshim.reaper.Exit;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.TaskProcess;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.stdio.StdioSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * One schedule of the exit coordinator's model (see {@link ExitModelTest}): the Task service's steps around
 * {@link ExitCoordinator} played out with a fake runc (processes are numbers that live until a step kills them),
 * a fake reaper (reaped exits wait in a FIFO until a step delivers the next one) and the exit lanes run by a step
 * each, all chosen by a seeded random generator. Every step is written to the trace; {@link ExitModelChecker}
 * looks at the queued events and the observers' answers after each.
 */
final class ExitModel {
    static final StdioSpec NO_IO = new StdioSpec("", "", "", false);
    /** A bundle that does not exist: the init's exit file cannot be written, which the coordinator logs and survives. */
    static final Path NO_BUNDLE = Path.of("/nonexistent/jshim-exit-model");

    final SplittableRandom rnd;
    final List<String> trace = new ArrayList<>();
    final List<ProtoMessage> events = new ArrayList<>();
    final ArrayDeque<Runnable> laneRuns = new ArrayDeque<>();
    final ArrayDeque<Exit> reaped = new ArrayDeque<>();
    final ExitCoordinator coordinator;
    final ExitModelChecker checker;
    final List<Box> boxes = new ArrayList<>();
    /** Live processes by pid (spawned by the fake runc, not yet dead). */
    final Map<Integer, TaskProcess> alive = new LinkedHashMap<>();
    final Map<TaskProcess, Box> boxOf = new HashMap<>();
    /** RPCs in flight: each is its next step, returning true when the RPC is over. */
    final List<Rpc> inflight = new ArrayList<>();
    int nextPid = 1000;
    int nextContainer;
    boolean shutDown;
    long clock;

    /** A container of the model with what the fake kernel and OOM watcher know of it. */
    static final class Box {
        final Container c;
        final boolean sharedPidNs;
        int execs;
        int oomKillsUnreported;
        boolean busyInit;
        boolean deleted;

        Box(Container c, boolean sharedPidNs) {
            this.c = c;
            this.sharedPidNs = sharedPidNs;
        }
    }

    /** An RPC between two of its steps. */
    record Rpc(String name, TaskProcess on, BooleanSupplier next) {}

    ExitModel(long seed) {
        this.rnd = new SplittableRandom(seed);
        this.coordinator = new ExitCoordinator(this::publish, laneRuns::add, this::killAll, pid -> null);
        this.checker = new ExitModelChecker(this);
    }

    void publish(ProtoMessage m) {
        events.add(m);
        checker.onEvent(m, events.size() - 1);
    }

    void note(String step) {
        trace.add(step);
    }

    // ---- the fake kernel ------------------------------------------------------------------------------------

    TaskProcess spawn(Box b, TaskProcess p) {
        int pid = nextPid++;
        alive.put(pid, p);
        boxOf.put(p, b);
        return p;
    }

    int pidOf(TaskProcess p) {
        for (Map.Entry<Integer, TaskProcess> e : alive.entrySet()) {
            if (e.getValue() == p) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** The process with {@code pid} dies and is reaped; in a private PID namespace the init takes the rest along. */
    void die(int pid, int status) {
        TaskProcess p = alive.remove(pid);
        if (p == null) {
            return;
        }
        reaped.add(new Exit(pid, status, Instant.ofEpochSecond(1_000_000, ++clock)));
        Box b = boxOf.get(p);
        if (p.isInit() && !b.sharedPidNs) {
            for (Integer other : List.copyOf(alive.keySet())) {
                if (boxOf.get(alive.get(other)) == b) {
                    die(other, 137); // the kernel kills a PID namespace with its init
                }
            }
        }
    }

    /** The fake {@code runc kill --all}: every process left in the container dies. */
    void killAll(Container c) {
        note("  kill --all " + c.id());
        checker.afterStep();
        for (Integer pid : List.copyOf(alive.keySet())) {
            if (alive.get(pid).container() == c) {
                die(pid, 137);
            }
        }
    }

    /** The fake OOM watcher: one TaskOOM per kill it has not reported. */
    OomWatcher.Handle oomHandle(Box b) {
        return new OomWatcher.Handle() {
            @Override
            public void sync(Duration limit) {
                checker.afterStep(); // the observers run at every point the coordinator calls out
                reportOom(b);
            }

            @Override
            public void close() {}
        };
    }

    void reportOom(Box b) {
        while (b.oomKillsUnreported > 0) {
            b.oomKillsUnreported--;
            publish(TaskOOM.newBuilder().setContainerId(b.c.id()).build());
        }
    }

    // ---- the Task service's steps ---------------------------------------------------------------------------

    void create() {
        String id = "c" + nextContainer++;
        boolean shared = rnd.nextBoolean();
        Box b = new Box(new Container(id, "ns", NO_BUNDLE.resolve(id), Options.getDefaultInstance(), null, shared,
                NO_IO, false), shared);
        b.c.setOomWatch(oomHandle(b));
        boxes.add(b);
        InitProcess init = b.c.init();
        checker.known(init);
        b.busyInit = true;
        note("create " + id + (shared ? " (shared pid ns)" : ""));
        ExitCoordinator.StartWatch w = coordinator.beginCreate(b.c);
        boolean fails = rnd.nextInt(10) == 0;
        inflight.add(new Rpc("create " + id, init, () -> {
            if (fails) { // runc create failed: no process, no event
                note("  runc create " + id + " failed");
                coordinator.createFailed(w);
                coordinator.forget(b.c);
                b.deleted = true;
                b.busyInit = false;
                return true;
            }
            spawn(b, init);
            note("  runc create " + id + ": pid " + pidOf(init));
            int pid = pidOf(init);
            inflight.add(new Rpc("create " + id + " (pid)", init, () -> {
                coordinator.pidLearned(w, init, pid);
                note("  create " + id + ": TaskCreate");
                publish(TaskCreate.newBuilder().setContainerId(id).setPid(pid).build());
                coordinator.initCreated(w, init);
                b.busyInit = false;
                return true;
            }));
            return true;
        }));
    }

    void startInit(Box b) {
        InitProcess init = b.c.init();
        if (init.status() != ProcessStatus.CREATED) {
            return;
        }
        note("start " + b.c.id());
        ExitCoordinator.StartWatch w;
        try {
            w = coordinator.beginInitStart(init);
        } catch (ShimException e) {
            note("  refused: " + e.getMessage());
            return;
        }
        b.busyInit = true;
        inflight.add(new Rpc("start " + b.c.id(), init, () -> {
            b.busyInit = false;
            if (pidOf(init) < 0) { // runc start of a dead init fails
                note("  runc start " + b.c.id() + " failed: init gone");
                coordinator.initStartSettled(w, init);
                return true;
            }
            init.advance(ProcessStatus.CREATED, ProcessStatus.RUNNING);
            note("  start " + b.c.id() + ": TaskStart");
            publish(TaskStart.newBuilder().setContainerId(b.c.id()).setPid(init.pid()).build());
            coordinator.initStartSettled(w, init);
            return true;
        }));
    }

    void execStart(Box b) {
        ProcessStatus initStatus = b.c.init().status();
        if (initStatus != ProcessStatus.CREATED && initStatus != ProcessStatus.RUNNING) {
            return; // Operation.EXEC refuses it
        }
        String execId = "e" + b.execs++;
        ExecProcess exec = b.c.addExec(execId, NO_IO, new byte[0]);
        checker.known(exec);
        note("exec start " + b.c.id() + "/" + execId);
        ExitCoordinator.StartWatch w;
        try {
            w = coordinator.beginExecStart(b.c);
        } catch (ShimException e) {
            note("  refused: " + e.getMessage());
            checker.neverStarted(exec);
            exec.markNeverStarted(new ExitStatus(255, Instant.EPOCH));
            return;
        }
        int failure = rnd.nextInt(8); // 0: runc exec fails; 1: stdio fails after the process started
        inflight.add(new Rpc("exec " + execId, exec, () -> {
            if (failure == 0 || pidOf(b.c.init()) < 0) {
                note("  runc exec " + b.c.id() + "/" + execId + " failed");
                failExec(w, exec);
                return true;
            }
            spawn(b, exec);
            int pid = pidOf(exec);
            note("  runc exec " + b.c.id() + "/" + execId + ": pid " + pid);
            inflight.add(new Rpc("exec " + execId + " (pid)", exec, () -> {
                coordinator.pidLearned(w, exec, pid);
                if (failure == 1) {
                    note("  exec " + b.c.id() + "/" + execId + ": stdio failed, killed");
                    die(pid, 137);
                    failExec(w, exec);
                    return true;
                }
                exec.advance(ProcessStatus.CREATED, ProcessStatus.RUNNING);
                note("  exec " + b.c.id() + "/" + execId + ": TaskExecStarted");
                publish(TaskExecStarted.newBuilder().setContainerId(b.c.id()).setExecId(execId).setPid(pid).build());
                coordinator.execStarted(w, exec);
                return true;
            }));
            return true;
        }));
    }

    private void failExec(ExitCoordinator.StartWatch w, ExecProcess exec) {
        coordinator.execStartFailed(w);
        checker.neverStarted(exec);
        exec.markNeverStarted(new ExitStatus(255, Instant.EPOCH));
    }

    void deleteInit(Box b) {
        InitProcess init = b.c.init();
        ProcessStatus s = init.status();
        if (s != ProcessStatus.STOPPED && s != ProcessStatus.CREATED) {
            return; // "cannot delete a running process"
        }
        b.busyInit = true;
        note("delete " + b.c.id() + " (" + s + ")");
        int pid = pidOf(init);
        if (s == ProcessStatus.CREATED && pid > 0) {
            die(pid, 137); // the created init is killed; Delete waits for its exit
        }
        inflight.add(new Rpc("delete " + b.c.id(), init, () -> {
            if (init.exit().isEmpty() && init.pid() > 0) {
                return false; // still waiting for the exit
            }
            note("  delete " + b.c.id() + ": TaskDelete");
            checker.observe(init, "Delete");
            init.setDeleted();
            coordinator.forget(b.c);
            b.deleted = true;
            b.busyInit = false;
            publish(TaskDelete.newBuilder().setContainerId(b.c.id()).build());
            return true;
        }));
    }

    void deleteExec(Box b, ExecProcess exec) {
        ProcessStatus s = exec.status();
        if (s == ProcessStatus.STOPPED || (s == ProcessStatus.CREATED && exec.onExit().isDone())) {
            note("delete " + b.c.id() + "/" + exec.id());
            checker.observe(exec, "Delete");
            exec.setDeleted();
            b.c.removeExec(exec.id());
        }
    }

    void kill(TaskProcess p, boolean oom) {
        int pid = pidOf(p);
        if (pid < 0) {
            return;
        }
        Box b = boxOf.get(p);
        note((oom ? "OOM kill " : "exit ") + p);
        if (oom) {
            b.oomKillsUnreported++;
            checker.oomKilled(p);
        }
        die(pid, oom ? 137 : rnd.nextInt(3));
    }

    void deliverExit() {
        Exit e = reaped.poll();
        note("reaper delivers pid " + e.pid() + " status " + e.status());
        coordinator.onExit(e);
    }

    void runLane() {
        note("lane runs");
        laneRuns.poll().run();
    }

    void shutdown() {
        if (boxes.stream().allMatch(x -> x.deleted) && inflight.isEmpty()) {
            note("shutdown");
            shutDown = true;
        }
    }
}
