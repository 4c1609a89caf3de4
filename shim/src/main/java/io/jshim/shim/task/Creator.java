package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskIO;
import io.jshim.proto.runc.Options;
import io.jshim.proto.task.CreateTaskRequest;
import io.jshim.proto.task.CreateTaskResponse;
import io.jshim.reaper.Monitor;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.runc.Runc;
import io.jshim.shim.runc.RuncException;
import io.jshim.stdio.ProcessIO;
import io.jshim.stdio.StdioSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Create sequence of a reserved id (rootfs, bundle files, stdio, runc create, the exit watch, TaskCreate) and
 * its undoing when a step fails. Holds no lock: the id's reservation in the {@link ContainerTable} keeps a second
 * Create of it away, and the container is published only once made.
 */
final class Creator {
    private static final Logger log = LoggerFactory.getLogger(Creator.class);

    private final Monitor monitor;
    private final Consumer<ProtoMessage> events;
    private final ExitCoordinator exits;
    private final ContainerTable containers;
    private final Checkpoints checkpoints;
    private final ProcessWiring wiring;

    Creator(Monitor monitor, Consumer<ProtoMessage> events, ExitCoordinator exits, ContainerTable containers,
            Checkpoints checkpoints, ProcessWiring wiring) {
        this.monitor = monitor;
        this.events = events;
        this.exits = exits;
        this.containers = containers;
        this.checkpoints = checkpoints;
        this.wiring = wiring;
    }

    CreateTaskResponse create(String id, String ns, Path bundle, Options options, CreateTaskRequest r) {
        Runc runc = new Runc(monitor, options.getBinaryName(), Runc.rootFor(options.getRoot(), ns),
                bundle.resolve("log.json"), options.getSystemdCgroup());
        StdioSpec stdio = new StdioSpec(r.getStdin(), r.getStdout(), r.getStderr(), r.getTerminal());
        boolean fromCheckpoint = !r.getCheckpoint().isEmpty();
        Container c = new Container(id, ns, bundle, options, runc, Bundle.killAllOnInitExit(bundle), stdio,
                fromCheckpoint);
        InitProcess init = c.init();
        ExitCoordinator.StartWatch watch = null;
        boolean runcCreated = false;
        try {
            if (r.getRootfsCount() > 0) {
                Rootfs.mount(c, r.getRootfsList());
            }
            Bundle.writeOptions(bundle, options);
            ProcessIO io = wiring.prepareIo(c, null, stdio);
            init.setIo(io);
            if (fromCheckpoint) {
                // Restored at Start (runc restore), from the image Create names.
                checkpoints.remember(id, r);
                containers.put(c);
                publishCreate(c, r, 0);
                return CreateTaskResponse.newBuilder().setPid(0).build();
            }
            watch = exits.beginCreate(c);
            try {
                runc.create(id, new Runc.CreateArgs(bundle, bundle.resolve(Bundle.INIT_PID), io.consoleSocket(),
                        options.getNoPivotRoot(), options.getNoNewKeyring(), io.runcFds()));
            } catch (RuncException e) {
                throw ShimException.unknown("OCI runtime create failed: " + e.getMessage());
            }
            runcCreated = true;
            int pid = Bundle.readPid(bundle.resolve(Bundle.INIT_PID));
            exits.pidLearned(watch, init, pid);
            io.start(ProcessWiring.CONSOLE_TIMEOUT);
            wiring.watchCgroup(c, pid);
            containers.put(c);
            publishCreate(c, r, pid);
            exits.initCreated(watch, init);
            log.info("[{}] created: pid {}", id, pid);
            return CreateTaskResponse.newBuilder().setPid(pid).build();
        } catch (IOException | RuntimeException e) {
            undo(c, watch, runcCreated);
            if (e instanceof ShimException se) {
                throw se;
            }
            if (e instanceof IOException) {
                throw ShimException.unknown("create " + id + ": " + e.getMessage(), e);
            }
            throw ShimException.unknown("create " + id + ": " + e, e);
        }
    }

    private void undo(Container c, ExitCoordinator.StartWatch watch, boolean runcCreated) {
        containers.remove(c);
        if (runcCreated) {
            try {
                c.runc().delete(c.id(), true);
            } catch (RuncException | IOException e) {
                log.warn("[{}] undoing create: runc delete: {}", c.id(), e.getMessage());
            }
        }
        if (watch != null) {
            exits.createFailed(watch);
        }
        c.init().releasePidfd();
        Quietly.close(c.init().io());
        Quietly.close(c.oomWatch());
        try {
            Rootfs.unmount(c);
        } catch (IOException e) {
            log.warn("[{}] undoing create: {}", c.id(), e.getMessage());
        }
        exits.forget(c);
    }

    private void publishCreate(Container c, CreateTaskRequest r, int pid) {
        events.accept(TaskCreate.newBuilder()
                .setContainerId(c.id())
                .setBundle(r.getBundle())
                .addAllRootfs(r.getRootfsList())
                .setIo(TaskIO.newBuilder().setStdin(r.getStdin()).setStdout(r.getStdout())
                        .setStderr(r.getStderr()).setTerminal(r.getTerminal()))
                .setCheckpoint(r.getCheckpoint())
                .setPid(pid)
                .build());
    }
}
