package io.jshim.shim.task;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.cgroups.Cgroup;
import io.jshim.cgroups.OomWatcher;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskExecAdded;
import io.jshim.proto.runc.Options;
import io.jshim.proto.runc.ProcessDetails;
import io.jshim.proto.task.CheckpointTaskRequest;
import io.jshim.proto.task.CloseIORequest;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.CreateTaskRequest;
import io.jshim.proto.task.CreateTaskResponse;
import io.jshim.proto.task.DeleteRequest;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.proto.task.ExecProcessRequest;
import io.jshim.proto.task.KillRequest;
import io.jshim.proto.task.PauseRequest;
import io.jshim.proto.task.PidsRequest;
import io.jshim.proto.task.PidsResponse;
import io.jshim.proto.task.ResizePtyRequest;
import io.jshim.proto.task.ResumeRequest;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.proto.task.StartRequest;
import io.jshim.proto.task.StartResponse;
import io.jshim.proto.task.StateRequest;
import io.jshim.proto.task.StateResponse;
import io.jshim.proto.task.StatsRequest;
import io.jshim.proto.task.StatsResponse;
import io.jshim.proto.task.UpdateTaskRequest;
import io.jshim.proto.task.WaitRequest;
import io.jshim.proto.task.WaitResponse;
import io.jshim.proto.types.ProcessInfo;
import io.jshim.proto.types.Status;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.ExecSpec;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.Operation;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.shim.process.TaskProcess;
import io.jshim.shim.runc.RuncException;
import io.jshim.shim.runc.RuncOptionsParser;
import io.jshim.stdio.ProcessIO;
import io.jshim.stdio.StdioSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The containerd Task API over runc, independent of the protocol that carries it (the ttrpc and gRPC faces
 * both call this). Requests and responses are the task v2 messages; errors are {@link ShimException}s.
 * It keeps the API's contract (validation, error codes and texts, which process a request names, which lock it
 * runs under) and delegates the sequences: {@link Creator} (rootfs, bundle files, runc create and its undoing),
 * {@link Starter}, {@link Killer}, {@link Deleter}, {@link InitControl} (pause, resume, update, checkpoint) and
 * {@link Checkpoints}; {@link ContainerTable} holds the containers. Each checks the {@link Operation} table next to
 * the status change it makes.
 *
 * <p>Concurrency: the container table is a concurrent map with id reservation for Creates in flight; each
 * process's lifecycle lock serialises its own lifecycle calls across runc; the {@link ExitCoordinator} owns the
 * exit bookkeeping behind its lifecycle lock. No lock spans containers and none is held across runc for
 * State, Pids, Kill, Wait, Stats or Connect, which therefore answer while a slow Start or Delete runs.
 */
public final class TaskService implements AutoCloseable {
    private final String defaultNamespace;
    private final Consumer<ProtoMessage> events;
    private final ExitCoordinator exits;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final io.jshim.reaper.Subscription exitSubscription;
    /** Live containers, Create reservations and admission against Shutdown (its own lock: admission). */
    private final ContainerTable containers;
    private final Creator creator;
    private final Starter starter;
    private final Killer killer;
    private final Deleter deleter;
    private final InitControl control;

    /**
     * @param events appends to the shim's ordered event queue
     * @param socketDir a short directory for console sockets (unix socket paths are limited to 108 bytes)
     * @param onShutdown called once a Shutdown finds no container left
     */
    public TaskService(String defaultNamespace, Reaper reaper, Consumer<ProtoMessage> events, OomWatcher oomWatcher,
                       Path socketDir, Runnable onShutdown) {
        this(defaultNamespace, reaper, events, () -> oomWatcher, socketDir, onShutdown);
    }

    /** As above, with the OOM watcher asked for when the first container starts (it may be made meanwhile). */
    public TaskService(String defaultNamespace, Reaper reaper, Consumer<ProtoMessage> events,
                       Supplier<OomWatcher> oomWatcher, Path socketDir, Runnable onShutdown) {
        this.defaultNamespace = defaultNamespace;
        this.events = events;
        this.exits = new ExitCoordinator(events, workers);
        this.containers = new ContainerTable(onShutdown);
        Checkpoints checkpoints = new Checkpoints();
        ProcessWiring wiring = new ProcessWiring(reaper, socketDir, oomWatcher, events);
        this.creator = new Creator(new Monitor(reaper), events, exits, containers, checkpoints, wiring);
        this.starter = new Starter(events, exits, checkpoints, wiring);
        this.killer = new Killer(exits);
        this.deleter = new Deleter(events, exits, containers, checkpoints);
        this.control = new InitControl(events);
        this.exitSubscription = reaper.subscribe("exit-coordinator", exits::onExit);
        exits.attach(exitSubscription);
    }

    // ---- Create -------------------------------------------------------------------------------------------

    public CreateTaskResponse create(String namespace, CreateTaskRequest r) {
        String id = r.getId();
        if (id.isEmpty()) {
            throw ShimException.invalidArgument("container id must not be empty");
        }
        String ns = namespace == null || namespace.isEmpty() ? defaultNamespace : namespace;
        if (ns == null || ns.isEmpty()) {
            throw ShimException.failedPrecondition("namespace is required: failed precondition");
        }
        Path bundle = Path.of(r.getBundle());
        if (r.getBundle().isEmpty() || !Files.isDirectory(bundle)) {
            throw ShimException.invalidArgument("bundle " + r.getBundle() + " does not exist");
        }
        Options options;
        try {
            options = RuncOptionsParser.parse(r.hasOptions() ? r.getOptions() : null);
        } catch (IllegalArgumentException e) {
            throw ShimException.invalidArgument(e.getMessage());
        }
        containers.reserve(id);
        try {
            return creator.create(id, ns, bundle, options, r);
        } finally {
            containers.release(id); // a failed Create may leave the shim empty
        }
    }

    // ---- Start --------------------------------------------------------------------------------------------

    public StartResponse start(StartRequest r) {
        Container c = container(r.getId());
        TaskProcess p = c.process(r.getExecId());
        ReentrantLock lifecycle = p.lifecycleLock();
        lifecycle.lock();
        try {
            int pid = switch (p) {
                case InitProcess init -> starter.startInit(c, init);
                case ExecProcess exec -> starter.startExec(c, exec);
            };
            return StartResponse.newBuilder().setPid(pid).build();
        } finally {
            lifecycle.unlock();
        }
    }

    // ---- Delete -------------------------------------------------------------------------------------------

    public DeleteResponse delete(DeleteRequest r) {
        Container c = container(r.getId());
        TaskProcess p = c.process(r.getExecId());
        ReentrantLock lifecycle = p.lifecycleLock();
        lifecycle.lock();
        try {
            return switch (p) {
                case InitProcess init -> deleter.deleteInit(c, init);
                case ExecProcess exec -> deleter.deleteExec(c, exec);
            };
        } finally {
            lifecycle.unlock();
        }
    }

    // ---- State, Pids, Wait, Connect, Stats ----------------------------------------------------------------

    /** Never blocks (memory and the process's own monitor only): ttrpc runs it on its event loop (TaskMethods). */
    public StateResponse state(StateRequest r) {
        Container c = container(r.getId());
        TaskProcess p = c.process(r.getExecId());
        ProcessStatus status = p.status();
        Status proto = status.toProto();
        if (!p.isInit()) {
            ProcessStatus initStatus = c.init().status();
            if (initStatus == ProcessStatus.PAUSED || initStatus == ProcessStatus.PAUSING) {
                proto = initStatus.toProto();
            }
        }
        StdioSpec io = p.stdio();
        StateResponse.Builder b = StateResponse.newBuilder()
                .setId(p.id())
                .setBundle(c.bundle().toString())
                .setPid(p.pid())
                .setStatus(proto)
                .setStdin(io.stdin())
                .setStdout(io.stdout())
                .setStderr(io.stderr())
                .setTerminal(io.terminal());
        p.exit().ifPresent(e -> b.setExitStatus(e.status()).setExitedAt(Event.toTimestamp(e.at())));
        return b.build();
    }

    public PidsResponse pids(PidsRequest r) {
        Container c = container(r.getId());
        List<Integer> pids;
        try {
            pids = c.runc().ps(c.id());
        } catch (RuncException | IOException e) {
            throw ShimException.unknown("failed to list pids: " + e.getMessage());
        }
        PidsResponse.Builder b = PidsResponse.newBuilder();
        for (int pid : pids) {
            ProcessInfo.Builder info = ProcessInfo.newBuilder().setPid(pid);
            c.execWithPid(pid).ifPresent(exec -> info.setInfo(Any.newBuilder()
                    .setTypeUrl(ProcessDetails.TYPE_NAME)
                    .setValue(ProcessDetails.newBuilder().setExecId(exec.id()).build().toByteString())));
            b.addProcesses(info);
        }
        return b.build();
    }

    public WaitResponse await(WaitRequest r) {
        TaskProcess p = container(r.getId()).process(r.getExecId());
        try {
            ExitStatus e = p.awaitExit();
            return WaitResponse.newBuilder().setExitStatus(e.status()).setExitedAt(Event.toTimestamp(e.at())).build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShimException(io.jshim.ttrpc.Code.CANCELLED, "wait cancelled");
        }
    }

    /** Never blocks: ttrpc runs it on its event loop (TaskMethods). */
    public ConnectResponse connect(ConnectRequest r) {
        ConnectResponse.Builder b = ConnectResponse.newBuilder().setShimPid(Posix.getpid());
        containers.find(r.getId()).ifPresent(c -> b.setTaskPid(c.init().pid()));
        return b.build();
    }

    public StatsResponse stats(StatsRequest r) {
        Container c = container(r.getId());
        Cgroup cgroup = c.cgroup();
        if (cgroup == null) {
            throw ShimException.notFound("cgroup does not exist: not found");
        }
        try {
            return StatsResponse.newBuilder().setStats(cgroup.stats()).build();
        } catch (IOException e) {
            throw ShimException.notFound("cgroup does not exist: " + e.getMessage());
        }
    }

    // ---- Kill, Exec, Pause, Resume, Update, Checkpoint, IO -------------------------------------------------

    public Empty kill(KillRequest r) {
        Container c = container(r.getId());
        killer.kill(c, c.process(r.getExecId()), r.getSignal(), r.getAll());
        return Empty.getDefaultInstance();
    }

    /** Never blocks (memory and the event queue's short lock only): ttrpc runs it on its event loop (TaskMethods). */
    public Empty exec(ExecProcessRequest r) {
        Container c = container(r.getId());
        if (r.getExecId().isEmpty()) {
            throw ShimException.invalidArgument("exec id must not be empty");
        }
        if (!r.hasSpec() || r.getSpec().getValue().isEmpty()) {
            throw ShimException.invalidArgument("exec " + r.getExecId() + ": a process spec is required");
        }
        Operation.EXEC.check(true, c.init().status());
        c.addExec(r.getExecId(), new StdioSpec(r.getStdin(), r.getStdout(), r.getStderr(), r.getTerminal()),
                ExecSpec.withTerminal(r.getSpec().getValue().toByteArray(), r.getTerminal()));
        events.accept(TaskExecAdded.newBuilder().setContainerId(c.id()).setExecId(r.getExecId()).build());
        return Empty.getDefaultInstance();
    }

    public Empty pause(PauseRequest r) {
        control.pause(container(r.getId()));
        return Empty.getDefaultInstance();
    }

    public Empty resume(ResumeRequest r) {
        control.resume(container(r.getId()));
        return Empty.getDefaultInstance();
    }

    public Empty update(UpdateTaskRequest r) {
        Container c = container(r.getId());
        if (!r.hasResources()) {
            throw ShimException.invalidArgument("update: resources are required");
        }
        control.update(c, r.getResources().getValue().toByteArray());
        return Empty.getDefaultInstance();
    }

    public Empty checkpoint(CheckpointTaskRequest r) {
        Container c = container(r.getId());
        control.checkpoint(c, r, Checkpoints.options(r));
        return Empty.getDefaultInstance();
    }

    public Empty resizePty(ResizePtyRequest r) {
        TaskProcess p = container(r.getId()).process(r.getExecId());
        if (!p.isInit() && p.status() == ProcessStatus.STOPPED) {
            throw ShimException.unknown("cannot resize a stopped container");
        }
        ProcessIO io = p.io();
        if (io != null) {
            try {
                io.resize(r.getWidth(), r.getHeight());
            } catch (IOException e) {
                throw ShimException.unknown("resize pty: " + e.getMessage());
            }
        }
        return Empty.getDefaultInstance();
    }

    public Empty closeIO(CloseIORequest r) {
        TaskProcess p = container(r.getId()).process(r.getExecId());
        ProcessIO io = p.io();
        if (io != null) {
            io.closeStdin();
        }
        return Empty.getDefaultInstance();
    }

    // ---- Shutdown -----------------------------------------------------------------------------------------

    /** Shuts the shim down only when it holds no container (a grouped shim lives until its last one is deleted). */
    public Empty shutdown(ShutdownRequest r) {
        containers.shutdown();
        return Empty.getDefaultInstance();
    }

    public int containerCount() {
        return containers.size();
    }

    /** The live containers now (a copy; for the metrics, which read their processes' states and counters). */
    public List<Container> containers() {
        return containers.all();
    }

    /** From now on the shim exits by itself after {@code idle}'s grace period without a container (IdleExit). */
    public void exitWhenIdle(IdleExit idle) {
        containers.exitWhenIdle(idle);
    }

    @Override
    public void close() {
        exitSubscription.close();
        workers.shutdown();
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private Container container(String id) {
        return containers.get(id);
    }
}
