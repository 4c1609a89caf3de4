package io.jshim.shim.process;

import io.jshim.cgroups.Cgroup;
import io.jshim.cgroups.OomWatcher;
import io.jshim.proto.runc.Options;
import io.jshim.shim.ShimException;
import io.jshim.shim.runc.Runc;
import io.jshim.stdio.StdioSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One container: its init, its execs, and what the shim needs to drive it. The exec table is a concurrent
 * map (reserving an exec id is one atomic putIfAbsent); everything else is fixed at Create or volatile.
 */
public final class Container {
    /** How long an exit waits for the OOM watcher's re-read; it answers in microseconds unless stuck. */
    private static final java.time.Duration OOM_SYNC_LIMIT = java.time.Duration.ofMillis(500);

    private final String id;
    private final String namespace;
    private final Path bundle;
    private final Options options;
    private final Runc runc;
    private final boolean killAllOnInitExit;
    private final InitProcess init;
    private final Map<String, ExecProcess> execs = new ConcurrentHashMap<>();
    private volatile Cgroup cgroup;
    private volatile OomWatcher.Handle oomWatch;
    private volatile boolean rootfsMounted;
    /** For the metrics: what the copiers of all its processes moved, and the OOM kills reported. */
    private final io.jshim.stdio.StdioTally stdioTally = new io.jshim.stdio.StdioTally();
    private final java.util.concurrent.atomic.AtomicLong oomKills = new java.util.concurrent.atomic.AtomicLong();
    /** The pod it belongs to, read from config.json on the first scrape (not at Create: off the cold path). */
    private volatile Pod pod;

    public Container(String id, String namespace, Path bundle, Options options, Runc runc,
                     boolean killAllOnInitExit, StdioSpec stdio, boolean fromCheckpoint) {
        this.id = id;
        this.namespace = namespace;
        this.bundle = bundle;
        this.options = options;
        this.runc = runc;
        this.killAllOnInitExit = killAllOnInitExit;
        this.init = new InitProcess(this, stdio,
                fromCheckpoint ? ProcessStatus.CREATED_CHECKPOINT : ProcessStatus.CREATED);
    }

    public String id() {
        return id;
    }

    public String namespace() {
        return namespace;
    }

    public Path bundle() {
        return bundle;
    }

    public Options options() {
        return options;
    }

    public Runc runc() {
        return runc;
    }

    /** Whether the init's exit must take the rest of the container with it (no private PID namespace). */
    public boolean killAllOnInitExit() {
        return killAllOnInitExit;
    }

    public InitProcess init() {
        return init;
    }

    /** Reserves {@code execId}; AlreadyExists when it is taken. */
    public ExecProcess addExec(String execId, StdioSpec stdio, byte[] processJson) {
        ExecProcess exec = new ExecProcess(this, execId, stdio, processJson);
        if (execs.putIfAbsent(execId, exec) != null) {
            throw ShimException.alreadyExists("id " + execId + ": already exists");
        }
        return exec;
    }

    public void removeExec(String execId) {
        execs.remove(execId);
    }

    /** The process named by an exec id, the init for an empty one; NotFound otherwise. */
    public TaskProcess process(String execId) {
        if (execId == null || execId.isEmpty()) {
            return init;
        }
        ExecProcess exec = execs.get(execId);
        if (exec == null) {
            throw ShimException.notFound("process does not exist " + execId + ": not found");
        }
        return exec;
    }

    public Optional<ExecProcess> execWithPid(int pid) {
        for (ExecProcess e : execs.values()) { // a loop, not a stream: the daemon's exit path runs this
            if (e.pid() == pid) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    public List<ExecProcess> execs() {
        return new ArrayList<>(execs.values());
    }

    public Cgroup cgroup() {
        return cgroup;
    }

    public void setCgroup(Cgroup cgroup) {
        this.cgroup = cgroup;
    }

    public OomWatcher.Handle oomWatch() {
        return oomWatch;
    }

    public void setOomWatch(OomWatcher.Handle oomWatch) {
        this.oomWatch = oomWatch;
    }

    /**
     * Publishes now any OOM kill the kernel has counted in this container's cgroup and the watcher has not yet
     * reported, so that a TaskOOM precedes the TaskExit the kill caused.
     */
    public void reportPendingOomKills() {
        OomWatcher.Handle watch = oomWatch;
        if (watch != null) {
            watch.sync(OOM_SYNC_LIMIT);
        }
    }

    public io.jshim.stdio.StdioTally stdioTally() {
        return stdioTally;
    }

    /** Counts one OOM kill reported for this container (a TaskOOM published). */
    public void countOomKill() {
        oomKills.incrementAndGet();
    }

    public long oomKills() {
        return oomKills.get();
    }

    /** The pod, once the metrics have read it (null before). */
    public Pod pod() {
        return pod;
    }

    public void setPod(Pod pod) {
        this.pod = pod;
    }

    public boolean rootfsMounted() {
        return rootfsMounted;
    }

    public void setRootfsMounted(boolean mounted) {
        this.rootfsMounted = mounted;
    }

    public Path rootfs() {
        return bundle.resolve("rootfs");
    }

    @Override
    public String toString() {
        return "container " + id;
    }
}
