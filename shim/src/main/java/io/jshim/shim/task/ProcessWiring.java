package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.cgroups.Cgroup;
import io.jshim.cgroups.OomWatcher;
import io.jshim.proto.events.TaskOOM;
import io.jshim.reaper.Reaper;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.stdio.IoContext;
import io.jshim.stdio.ProcessIO;
import io.jshim.stdio.StdioSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a process is wired to as runc makes it: its stdio, and for an init its cgroup and OOM watch. No state, no lock. */
final class ProcessWiring {
    private static final Logger log = LoggerFactory.getLogger(ProcessWiring.class);
    static final Duration CONSOLE_TIMEOUT = Duration.ofSeconds(30);

    private final Reaper reaper;
    private final Path socketDir;
    /** The OOM watcher, or null for none; a supplier because a cold daemon makes it off the critical path. */
    private final Supplier<OomWatcher> oomWatcher;
    private final Consumer<ProtoMessage> events;

    ProcessWiring(Reaper reaper, Path socketDir, Supplier<OomWatcher> oomWatcher, Consumer<ProtoMessage> events) {
        this.reaper = reaper;
        this.socketDir = socketDir;
        this.oomWatcher = oomWatcher;
        this.events = events;
    }

    /** The stdio of the init ({@code execId} null) or of an exec, opened before runc runs; InvalidArgument for bad URIs. */
    ProcessIO prepareIo(Container c, String execId, StdioSpec stdio) throws IOException {
        try {
            return ProcessIO.prepare(stdio, IoContext.of(c.id(), execId, c.namespace(), c.options().getIoUid(),
                    c.options().getIoGid(), socketDir, reaper).withTally(c.stdioTally()));
        } catch (IllegalArgumentException e) {
            throw ShimException.invalidArgument(e.getMessage());
        }
    }

    /** Finds the init's cgroup (for Stats) and watches it for OOM kills; without one, both are unavailable. */
    void watchCgroup(Container c, int pid) {
        try {
            Cgroup cgroup = Cgroup.forPid(pid);
            c.setCgroup(cgroup);
            OomWatcher watcher = oomWatcher.get();
            if (watcher != null) {
                c.setOomWatch(watcher.watch(cgroup,
                        () -> {
                            c.countOomKill();
                            events.accept(TaskOOM.newBuilder().setContainerId(c.id()).build());
                        }));
            }
        } catch (IOException | RuntimeException e) {
            log.warn("[{}] no cgroup for pid {}: Stats and OOM events unavailable: {}", c.id(), pid, e.getMessage());
        }
    }
}
