package io.jshim.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.jshim.cgroups.Cgroup;
import io.jshim.cgroups.OomWatcher;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.events.TaskExecAdded;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskIO;
import io.jshim.proto.events.TaskOOM;
import io.jshim.proto.events.TaskPaused;
import io.jshim.proto.events.TaskResumed;
import io.jshim.proto.events.TaskStart;
import io.jshim.proto.runc.CheckpointOptions;
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
import io.jshim.shim.mount.Mounts;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.ExecSpec;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.process.InitProcess;
import io.jshim.shim.process.Operation;
import io.jshim.shim.process.TaskProcess;
import io.jshim.shim.process.ProcessStatus;
import io.jshim.shim.runc.Runc;
import io.jshim.shim.runc.RuncException;
import io.jshim.shim.runc.RuncOptionsParser;
import io.jshim.stdio.IoContext;
import io.jshim.stdio.ProcessIO;
import io.jshim.stdio.StdioSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The containerd Task API over runc, independent of the protocol that carries it (the ttrpc and gRPC faces
 * both call this). Requests and responses are the task v2 messages; errors are {@link ShimException}s.
 *
 * <p>Concurrency: the container table is a concurrent map with id reservation for Creates in flight; each
 * process's lifecycle lock serialises its own lifecycle calls across runc; the {@link ExitCoordinator} owns the
 * exit bookkeeping behind its lifecycle lock. No lock spans containers and none is held across runc for
 * State, Pids, Kill, Wait, Stats or Connect, which therefore answer while a slow Start or Delete runs.
 */
public final class TaskService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    static final Duration CONSOLE_TIMEOUT = Duration.ofSeconds(30);
    static final Duration EXEC_DRAIN_ON_DELETE = Duration.ofSeconds(10);
    static final Duration CREATED_INIT_EXIT_WAIT = Duration.ofSeconds(10);
    static final Duration KILL_FINISHED_WAIT = Duration.ofSeconds(10);
    static final String PROCESS_SPEC_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

    private final String defaultNamespace;
    private final Reaper reaper;
    private final Monitor monitor;
    private final Consumer<Message> events;
    private final ExitCoordinator exits;
    /** The OOM watcher, or null for none; a supplier because a cold daemon makes it off the critical path. */
    private final Supplier<OomWatcher> oomWatcher;
    private final Path socketDir;
    private final Runnable onShutdown;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final io.jshim.reaper.Subscription exitSubscription;

    /** Live containers by id. */
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    /** The images named by Create for containers to be restored at Start. */
    private final Map<String, Checkpoint> checkpoints = new ConcurrentHashMap<>();
    /**
     * Ids whose Create is in flight: reserved so a second Create of the same id is refused at once. Added only
     * under {@link #admission}; removed (after the container is in {@link #containers}, or after a failure) without it.
     */
    private final Set<String> creating = ConcurrentHashMap.newKeySet();
    /**
     * Admission of new containers against Shutdown: guards {@link #shuttingDown} and the adding of
     * {@link #creating} reservations, so a Create either is reserved before a Shutdown looks (and the Shutdown
     * does nothing) or comes after it and is refused. Never held across runc or I/O.
     */
    private final Object admission = new Object();
    /** Set by the Shutdown that found no container: the shim is exiting and takes no more. Guarded by admission. */
    private boolean shuttingDown;
    /** Ends the shim after a grace period holding no container; null for never. Armed and disarmed under admission. */
    private IdleExit idleExit;

    /**
     * @param events appends to the shim's ordered event queue
     * @param socketDir a short directory for console sockets (unix socket paths are limited to 108 bytes)
     * @param onShutdown called once a Shutdown finds no container left
     */
    public TaskService(String defaultNamespace, Reaper reaper, Consumer<Message> events, OomWatcher oomWatcher,
                       Path socketDir, Runnable onShutdown) {
        this(defaultNamespace, reaper, events, () -> oomWatcher, socketDir, onShutdown);
    }

    /** As above, with the OOM watcher asked for when the first container starts (it may be made meanwhile). */
    public TaskService(String defaultNamespace, Reaper reaper, Consumer<Message> events,
                       Supplier<OomWatcher> oomWatcher, Path socketDir, Runnable onShutdown) {
        this.defaultNamespace = defaultNamespace;
        this.reaper = reaper;
        this.monitor = new Monitor(reaper);
        this.events = events;
        this.exits = new ExitCoordinator(events, workers);
        this.oomWatcher = oomWatcher;
        this.socketDir = socketDir;
        this.onShutdown = onShutdown;
        this.exitSubscription = reaper.subscribe("exit-coordinator", exits::onExit);
        exits.attach(exitSubscription);
    }

    private record Checkpoint(Path image, Optional<Path> parent) {}

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
        synchronized (admission) {
            if (shuttingDown) {
                throw ShimException.failedPrecondition("container " + id + ": the shim is shutting down");
            }
            if (containers.containsKey(id) || !creating.add(id)) {
                throw ShimException.alreadyExists("container " + id + ": already exists");
            }
            if (idleExit != null) {
                idleExit.disarm();
            }
        }
        try {
            return createReserved(id, ns, bundle, options, r);
        } finally {
            creating.remove(id);
            armIdleExitIfEmpty(); // a failed Create may leave the shim empty
        }
    }

    private CreateTaskResponse createReserved(String id, String ns, Path bundle, Options options, CreateTaskRequest r) {
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
                Path rootfs = c.rootfs();
                Files.createDirectories(rootfs);
                Files.setPosixFilePermissions(rootfs, PosixFilePermissions.fromString("rwx--x--x"));
                Mounts.mountAll(r.getRootfsList(), rootfs);
                c.setRootfsMounted(true);
            }
            Bundle.writeOptions(bundle, options);
            ProcessIO io = prepareIo(c, null, stdio);
            init.setIo(io);
            if (fromCheckpoint) {
                // Restored at Start (runc restore), from the image Create names.
                checkpoints.put(id, new Checkpoint(Path.of(r.getCheckpoint()),
                        r.getParentCheckpoint().isEmpty() ? Optional.empty() : Optional.of(Path.of(r.getParentCheckpoint()))));
                containers.put(id, c);
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
            io.start(CONSOLE_TIMEOUT);
            watchCgroup(c, pid);
            containers.put(id, c);
            publishCreate(c, r, pid);
            exits.initCreated(watch, init);
            log.info("[{}] created: pid {}", id, pid);
            return CreateTaskResponse.newBuilder().setPid(pid).build();
        } catch (IOException | RuntimeException e) {
            undoCreate(c, watch, runcCreated);
            if (e instanceof ShimException se) {
                throw se;
            }
            if (e instanceof IOException) {
                throw ShimException.unknown("create " + id + ": " + e.getMessage(), e);
            }
            throw ShimException.unknown("create " + id + ": " + e, e);
        }
    }

    private void undoCreate(Container c, ExitCoordinator.StartWatch watch, boolean runcCreated) {
        containers.remove(c.id(), c);
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
        closeQuietly(c.init().io());
        closeQuietly(c.oomWatch());
        if (c.rootfsMounted()) {
            try {
                Mounts.unmountAll(c.rootfs());
            } catch (IOException e) {
                log.warn("[{}] undoing create: {}", c.id(), e.getMessage());
            }
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

    private void watchCgroup(Container c, int pid) {
        try {
            Cgroup cgroup = Cgroup.forPid(pid);
            c.setCgroup(cgroup);
            OomWatcher watcher = oomWatcher.get();
            if (watcher != null) {
                c.setOomWatch(watcher.watch(cgroup,
                        () -> events.accept(TaskOOM.newBuilder().setContainerId(c.id()).build())));
            }
        } catch (IOException | RuntimeException e) {
            log.warn("[{}] no cgroup for pid {}: Stats and OOM events unavailable: {}", c.id(), pid, e.getMessage());
        }
    }

    private ProcessIO prepareIo(Container c, String execId, StdioSpec stdio) throws IOException {
        try {
            return ProcessIO.prepare(stdio, IoContext.of(c.id(), execId, c.namespace(), c.options().getIoUid(),
                    c.options().getIoGid(), socketDir, reaper));
        } catch (IllegalArgumentException e) {
            throw ShimException.invalidArgument(e.getMessage());
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
                case InitProcess init -> startInit(c, init);
                case ExecProcess exec -> startExec(c, exec);
            };
            return StartResponse.newBuilder().setPid(pid).build();
        } finally {
            lifecycle.unlock();
        }
    }

    private int startInit(Container c, InitProcess init) {
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
        Checkpoint cp = checkpoints.get(c.id());
        c.runc().restore(c.id(), new Runc.RestoreArgs(c.bundle(), c.bundle().resolve(Bundle.INIT_PID), cp.image(),
                work, cp.parent(), io.consoleSocket(), o.getNoPivotRoot(), io.runcFds()));
        int pid = Bundle.readPid(c.bundle().resolve(Bundle.INIT_PID));
        exits.pidLearned(watch, init, pid);
        io.start(CONSOLE_TIMEOUT);
        watchCgroup(c, pid);
    }

    private int startExec(Container c, ExecProcess exec) {
        Operation.START.check(false, exec.status());
        ExitCoordinator.StartWatch watch = exits.beginExecStart(c);
        Path pidFile = c.bundle().resolve(exec.id() + ".pid");
        Path specFile = c.bundle().resolve("." + exec.id() + ".process.json");
        try {
            ProcessIO io = prepareIo(c, exec.id(), exec.stdio());
            exec.setIo(io);
            Files.write(specFile, exec.processJson());
            try {
                c.runc().exec(c.id(), new Runc.ExecArgs(specFile, pidFile, io.consoleSocket(), io.runcFds()));
            } catch (RuncException e) {
                if (exits.initExited(c) || hasDied(c.init().pid())) {
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
                io.start(CONSOLE_TIMEOUT);
            } catch (IOException e) {
                killQuietly(exec);
                throw ShimException.unknown("exec " + exec.id() + ": stdio: " + e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(exec.io());
            exits.execStartFailed(watch);
            exec.markNeverStarted(new ExitStatus(255, Instant.now()));
            if (e instanceof ShimException se) {
                throw se;
            }
            throw ShimException.unknown("exec " + exec.id() + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(specFile);
        }
        exec.advance(ProcessStatus.CREATED, ProcessStatus.RUNNING);
        events.accept(TaskExecStarted.newBuilder().setContainerId(c.id()).setExecId(exec.id())
                .setPid(exec.pid()).build());
        exits.execStarted(watch, exec);
        log.info("[{} {}] exec started: pid {}", c.id(), exec.id(), exec.pid());
        return exec.pid();
    }

    /** PF_EXITING in /proc/PID/stat's flags: set as do_exit begins, before the namespaces are torn down. */
    private static final long PF_EXITING = 0x4;

    /** Whether the kernel says {@code pid} is dying or dead: exiting, a zombie not yet reaped, or gone. */
    private static boolean hasDied(int pid) {
        if (pid <= 0) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // after the comm field (which may hold spaces and ')'): state ppid pgrp session tty_nr tpgid flags ...
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            char state = f[0].charAt(0);
            return state == 'Z' || state == 'X' || state == 'x' || (Long.parseLong(f[6]) & PF_EXITING) != 0;
        } catch (IOException e) {
            return true; // no /proc entry: already reaped
        } catch (RuntimeException unreadable) {
            return false; // a stat line we cannot read says nothing of a death
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
                case InitProcess init -> deleteInit(c, init);
                case ExecProcess exec -> deleteExec(c, exec);
            };
        } finally {
            lifecycle.unlock();
        }
    }

    private DeleteResponse deleteExec(Container c, ExecProcess exec) {
        Operation.DELETE.check(false, exec.status());
        ProcessIO io = exec.io();
        if (io != null) {
            try {
                io.drained().get(EXEC_DRAIN_ON_DELETE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                log.warn("[{} {}] output not drained on delete: {}", c.id(), exec.id(), e.toString());
            }
            closeQuietly(io);
        }
        deleteQuietly(c.bundle().resolve(exec.id() + ".pid"));
        exec.setDeleted();
        c.removeExec(exec.id());
        ExitStatus exit = exec.exit().orElse(new ExitStatus(0, Instant.EPOCH));
        return deleteResponse(exec.pid(), exit);
    }

    private DeleteResponse deleteInit(Container c, InitProcess init) {
        ProcessStatus status = init.status();
        Operation.DELETE.check(true, status);
        if ((status == ProcessStatus.CREATED || status == ProcessStatus.CREATED_CHECKPOINT) && init.pid() > 0) {
            // The init waits in runc's exec fifo: killing it is its exit, reported like any other.
            try {
                c.runc().kill(c.id(), 9, false);
            } catch (RuncException | IOException e) {
                log.debug("[{}] kill of created init: {}", c.id(), e.getMessage());
            }
            try {
                if (init.awaitExit(CREATED_INIT_EXIT_WAIT).isEmpty()) {
                    log.warn("[{}] created init did not exit within {}", c.id(), CREATED_INIT_EXIT_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ShimException.unknown("interrupted");
            }
        }
        try {
            c.runc().delete(c.id(), true);
        } catch (RuncException e) {
            if (!e.isNotExist()) {
                throw ShimException.unknown("failed to delete task: " + e.getMessage());
            }
        } catch (IOException e) {
            throw ShimException.unknown("failed to delete task: " + e.getMessage());
        }
        closeQuietly(init.io());
        closeQuietly(c.oomWatch());
        if (c.rootfsMounted()) {
            try {
                Mounts.unmountAll(c.rootfs());
                c.setRootfsMounted(false);
            } catch (IOException e) {
                throw ShimException.unknown("failed rootfs umount: " + e.getMessage());
            }
        }
        init.setDeleted();
        containers.remove(c.id(), c);
        checkpoints.remove(c.id());
        exits.forget(c);
        armIdleExitIfEmpty();
        ExitStatus exit = init.exit().orElse(new ExitStatus(0, Instant.now()));
        events.accept(TaskDelete.newBuilder().setContainerId(c.id()).setPid(init.pid())
                .setExitStatus(exit.status()).setExitedAt(Event.toTimestamp(exit.at())).build());
        log.info("[{}] deleted", c.id());
        return deleteResponse(init.pid(), exit);
    }

    private static DeleteResponse deleteResponse(int pid, ExitStatus exit) {
        return DeleteResponse.newBuilder().setPid(pid).setExitStatus(exit.status())
                .setExitedAt(Event.toTimestamp(exit.at())).build();
    }

    // ---- State, Pids, Wait, Connect, Stats ----------------------------------------------------------------

    /** Never blocks (memory and the process's own monitor only): ttrpc runs it on its event loop (TaskMethods). */
    public StateResponse state(StateRequest r) {
        Container c = containerOrNotCreated(r.getId());
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
                    .setTypeUrl(ProcessDetails.getDescriptor().getFullName())
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
        Container c = containers.get(r.getId());
        if (c != null) {
            b.setTaskPid(c.init().pid());
        }
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
        TaskProcess p = c.process(r.getExecId());
        int signal = r.getSignal();
        switch (p) {
            case InitProcess init -> {
                if (init.status() == ProcessStatus.DELETED) {
                    throw ShimException.notFound("cannot kill a deleted process: not found");
                }
                if (!r.getAll() && (init.exit().isPresent() || exits.initExited(c))) {
                    throw finished(init);
                }
                if (!r.getAll() && init.hasPidfd()) {
                    signal(init, signal); // the process itself: a reused pid is never signalled
                    return Empty.getDefaultInstance();
                }
                try {
                    c.runc().kill(c.id(), signal, r.getAll());
                } catch (RuncException e) {
                    if (e.isNotRunning()) {
                        throw finished(init);
                    }
                    if (e.isNotExist()) {
                        throw ShimException.notFound("no such container: not found");
                    }
                    throw ShimException.unknown("unknown error after kill: " + e.getMessage());
                } catch (IOException e) {
                    throw ShimException.unknown("unknown error after kill: " + e.getMessage());
                }
            }
            case ExecProcess exec -> {
                if (exec.status() == ProcessStatus.DELETED) {
                    throw ShimException.notFound("cannot kill a deleted process: not found");
                }
                int pid = exec.pid();
                if (pid == 0) {
                    throw ShimException.failedPrecondition("process not created: failed precondition");
                }
                if (exec.exit().isPresent()) {
                    throw finished(exec);
                }
                signal(exec, signal); // through its pidfd: a reused pid is never signalled
            }
        }
        return Empty.getDefaultInstance();
    }

    /** Signals {@code p} through its pidfd (by pid where there are none); NotFound once it is gone. */
    private static void signal(TaskProcess p, int signal) {
        try {
            if (!p.signal(signal)) {
                throw finished(p);
            }
        } catch (IOException e) {
            throw ShimException.unknown("unknown error after kill: " + e.getMessage());
        }
    }

    /**
     * Kill's NotFound for a process found dead, answered once its exit is committed (its TaskExit queued, see
     * ExitCoordinator), so that no answer reveals an exit containerd has not been told of; bounded, as the exit
     * may wait for a slow output drain.
     */
    private static ShimException finished(TaskProcess p) {
        try {
            p.awaitExit(KILL_FINISHED_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ShimException.notFound("process already finished: not found");
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
        Container c = container(r.getId());
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.PAUSE.check(true, init.status());
            init.advance(ProcessStatus.RUNNING, ProcessStatus.PAUSING);
            try {
                c.runc().pause(c.id());
            } catch (RuncException | IOException e) {
                init.advance(ProcessStatus.PAUSING, ProcessStatus.RUNNING);
                throw ShimException.unknown("OCI runtime pause failed: " + e.getMessage());
            }
            init.advance(ProcessStatus.PAUSING, ProcessStatus.PAUSED);
            events.accept(TaskPaused.newBuilder().setContainerId(c.id()).build());
        });
        return Empty.getDefaultInstance();
    }

    public Empty resume(ResumeRequest r) {
        Container c = container(r.getId());
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.RESUME.check(true, init.status());
            try {
                c.runc().resume(c.id());
            } catch (RuncException | IOException e) {
                throw ShimException.unknown("OCI runtime resume failed: " + e.getMessage());
            }
            init.advance(ProcessStatus.PAUSED, ProcessStatus.RUNNING);
            events.accept(TaskResumed.newBuilder().setContainerId(c.id()).build());
        });
        return Empty.getDefaultInstance();
    }

    public Empty update(UpdateTaskRequest r) {
        Container c = container(r.getId());
        if (!r.hasResources()) {
            throw ShimException.invalidArgument("update: resources are required");
        }
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.UPDATE.check(true, init.status());
            try {
                c.runc().update(c.id(), r.getResources().getValue().toByteArray());
            } catch (RuncException | IOException e) {
                throw ShimException.unknown("OCI runtime update failed: " + e.getMessage());
            }
        });
        return Empty.getDefaultInstance();
    }

    public Empty checkpoint(CheckpointTaskRequest r) {
        Container c = container(r.getId());
        CheckpointOptions o = checkpointOptions(r);
        InitProcess init = c.init();
        withLifecycle(init, () -> {
            Operation.CHECKPOINT.check(true, init.status());
            String image = !o.getImagePath().isEmpty() ? o.getImagePath() : r.getPath();
            if (image.isEmpty()) {
                throw ShimException.invalidArgument("checkpoint: an image path is required");
            }
            Path work = !o.getWorkPath().isEmpty() ? Path.of(o.getWorkPath())
                    : c.bundle().resolve("work").resolve("criu-work");
            try {
                Files.createDirectories(work);
                c.runc().checkpoint(c.id(), new Runc.CheckpointArgs(Path.of(image), work,
                        o.getParentPath().isEmpty() ? Optional.empty() : Optional.of(Path.of(o.getParentPath())),
                        !o.getExit(), o.getOpenTcp(), o.getExternalUnixSockets(), o.getTerminal(), o.getFileLocks(),
                        o.getEmptyNamespacesList(), o.getCgroupsMode()));
            } catch (RuncException | IOException e) {
                throw ShimException.unknown("OCI runtime checkpoint failed: " + e.getMessage());
            } finally {
                if (o.getWorkPath().isEmpty()) {
                    deleteTree(work);
                }
            }
        });
        return Empty.getDefaultInstance();
    }

    private static CheckpointOptions checkpointOptions(CheckpointTaskRequest r) {
        if (!r.hasOptions() || r.getOptions().getValue().isEmpty()) {
            return CheckpointOptions.getDefaultInstance();
        }
        Any any = r.getOptions();
        String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
        try {
            return switch (type) {
                case "containerd.runc.v1.CheckpointOptions" -> CheckpointOptions.parseFrom(any.getValue());
                case "containerd.linux.runc.CheckpointOptions" -> {
                    var l = io.jshim.proto.runc.legacy.CheckpointOptions.parseFrom(any.getValue());
                    yield CheckpointOptions.newBuilder().setExit(l.getExit()).setOpenTcp(l.getOpenTcp())
                            .setExternalUnixSockets(l.getExternalUnixSockets()).setTerminal(l.getTerminal())
                            .setFileLocks(l.getFileLocks()).addAllEmptyNamespaces(l.getEmptyNamespacesList())
                            .setCgroupsMode(l.getCgroupsMode()).setImagePath(l.getImagePath())
                            .setWorkPath(l.getWorkPath()).build();
                }
                default -> throw ShimException.invalidArgument("unsupported checkpoint options type " + any.getTypeUrl());
            };
        } catch (InvalidProtocolBufferException e) {
            throw ShimException.invalidArgument("malformed checkpoint options: " + e.getMessage());
        }
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
        synchronized (admission) {
            if (shuttingDown || !containers.isEmpty() || !creating.isEmpty()) {
                return Empty.getDefaultInstance(); // a live or arriving container keeps the shim; a repeat is a no-op
            }
            shuttingDown = true;
        }
        log.info("shutdown: no container left");
        onShutdown.run();
        return Empty.getDefaultInstance();
    }

    public int containerCount() {
        return containers.size();
    }

    /** From now on the shim exits by itself after {@code idle}'s grace period without a container (IdleExit). */
    public void exitWhenIdle(IdleExit idle) {
        synchronized (admission) {
            idleExit = idle;
        }
        armIdleExitIfEmpty();
    }

    private void armIdleExitIfEmpty() {
        synchronized (admission) {
            if (idleExit != null && !shuttingDown && containers.isEmpty() && creating.isEmpty()) {
                idleExit.arm(this::idleExpired);
            }
        }
    }

    /** The grace period ran out: a Shutdown, if nothing came meanwhile (checked under admission, as Shutdown does). */
    private void idleExpired(IdleExit.Ticket ticket) {
        synchronized (admission) {
            if (shuttingDown || !containers.isEmpty() || !creating.isEmpty() || !ticket.current()) {
                return;
            }
            shuttingDown = true;
        }
        log.info("no container for {} ms: shutting down", ticket.owner().grace().toMillis());
        onShutdown.run();
    }

    @Override
    public void close() {
        exitSubscription.close();
        workers.shutdown();
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private Container container(String id) {
        Container c = containers.get(id);
        if (c == null) {
            throw ShimException.notFound("container not created: not found");
        }
        return c;
    }

    private Container containerOrNotCreated(String id) {
        Container c = containers.get(id);
        if (c == null) {
            throw ShimException.notFound("container not created: not found");
        }
        return c;
    }

    private static void withLifecycle(TaskProcess p, Runnable body) {
        ReentrantLock lock = p.lifecycleLock();
        lock.lock();
        try {
            body.run();
        } finally {
            lock.unlock();
        }
    }

    private static void killQuietly(TaskProcess p) {
        try {
            p.signal(9);
        } catch (IOException ignored) {
            // already gone
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.debug("close: {}", e.toString());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(TaskService::deleteQuietly);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
