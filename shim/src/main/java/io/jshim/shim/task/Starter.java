package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskStart;
import io.jshim.proto.runc.Options;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.Operation;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.shim.runc.Runc;
import io.jshim.shim.runc.RuncException;
import io.jshim.stdio.ProcessIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Start sequences: runc start or restore of an init, runc exec of an exec, each inside the exit coordinator's
 * start watch so its start event is queued before its exit. The caller holds the process's lifecycle lock (which
 * is held across runc by design: only calls on the same process wait); no other lock is taken here.
 */
final class Starter {
    private static final Logger log = LoggerFactory.getLogger(Starter.class);

    private final Consumer<ProtoMessage> events;
    private final ExitCoordinator exits;
    private final Checkpoints checkpoints;
    private final ProcessWiring wiring;

    Starter(Consumer<ProtoMessage> events, ExitCoordinator exits, Checkpoints checkpoints, ProcessWiring wiring) {
        this.events = events;
        this.exits = exits;
        this.checkpoints = checkpoints;
        this.wiring = wiring;
    }

    int startInit(Container c, InitProcess init) {
        ProcessStatus before = init.status();
        Operation.START.check(true, before);
        ExitCoordinator.StartWatch watch = exits.beginInitStart(init);
        try {
            if (before == ProcessStatus.CREATED_CHECKPOINT) {
                restore(c, init, watch);
            } else {
                c.runc().start(c.id());
            }
        } catch (RuncException | IOException e) {
            exits.initStartSettled(watch, init);
            throw ShimException.unknown((before == ProcessStatus.CREATED_CHECKPOINT ? "OCI runtime restore failed: "
                    : "OCI runtime start failed: ") + e.getMessage());
        }
        init.advance(before, ProcessStatus.RUNNING);
        events.accept(TaskStart.newBuilder().setContainerId(c.id()).setPid(init.pid()).build());
        exits.initStartSettled(watch, init);
        log.info("[{}] started: pid {}", c.id(), init.pid());
        return init.pid();
    }

    private void restore(Container c, InitProcess init, ExitCoordinator.StartWatch watch)
            throws RuncException, IOException {
        Options o = c.options();
        Path work = o.getCriuWorkPath().isEmpty() ? c.bundle().resolve("work") : Path.of(o.getCriuWorkPath());
        ProcessIO io = init.io();
        Checkpoints.Image cp = checkpoints.image(c.id());
        c.runc().restore(c.id(), new Runc.RestoreArgs(c.bundle(), c.bundle().resolve(Bundle.INIT_PID), cp.path(),
                work, cp.parent(), io.consoleSocket(), o.getNoPivotRoot(), io.runcFds()));
        int pid = Bundle.readPid(c.bundle().resolve(Bundle.INIT_PID));
        exits.pidLearned(watch, init, pid);
        io.start(ProcessWiring.CONSOLE_TIMEOUT);
        wiring.watchCgroup(c, pid);
    }

    int startExec(Container c, ExecProcess exec) {
        Operation.START.check(false, exec.status());
        ExitCoordinator.StartWatch watch = exits.beginExecStart(c);
        Path pidFile = c.bundle().resolve(exec.id() + ".pid");
        Path specFile = c.bundle().resolve("." + exec.id() + ".process.json");
        try {
            ProcessIO io = wiring.prepareIo(c, exec.id(), exec.stdio());
            exec.setIo(io);
            Files.write(specFile, exec.processJson());
            try {
                c.runc().exec(c.id(), new Runc.ExecArgs(specFile, pidFile, io.consoleSocket(), io.runcFds()));
            } catch (RuncException e) {
                if (exits.initExited(c) || ProcStat.hasDied(c.init().pid())) {
                    // The init died while runc was entering the container (runc then fails in setns, often with
                    // "broken pipe"): the same answer as a refusal up front, even before the reaper's notice of
                    // that death has reached the exit coordinator.
                    throw ShimException.failedPrecondition(
                            "container " + c.id() + " init process is not running: failed precondition");
                }
                throw ShimException.unknown("OCI runtime exec failed: " + e.getMessage());
            }
            int pid = Bundle.readPid(pidFile);
            exits.pidLearned(watch, exec, pid);
            try {
                io.start(ProcessWiring.CONSOLE_TIMEOUT);
            } catch (IOException e) {
                Quietly.kill(exec);
                throw ShimException.unknown("exec " + exec.id() + ": stdio: " + e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            Quietly.close(exec.io());
            exits.execStartFailed(watch);
            exec.markNeverStarted(new ExitStatus(255, Instant.now()));
            if (e instanceof ShimException se) {
                throw se;
            }
            throw ShimException.unknown("exec " + exec.id() + ": " + e.getMessage(), e);
        } finally {
            Quietly.delete(specFile);
        }
        exec.advance(ProcessStatus.CREATED, ProcessStatus.RUNNING);
        events.accept(TaskExecStarted.newBuilder().setContainerId(c.id()).setExecId(exec.id())
                .setPid(exec.pid()).build());
        exits.execStarted(watch, exec);
        log.info("[{} {}] exec started: pid {}", c.id(), exec.id(), exec.pid());
        return exec.pid();
    }
}
