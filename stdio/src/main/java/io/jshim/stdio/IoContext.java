package io.jshim.stdio;

import io.jshim.reaper.Reaper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Who the IO belongs to and what it may use.
 *
 * @param containerId      the container
 * @param execId           the exec id, or null for the init process
 * @param namespace        containerd namespace (CONTAINER_NAMESPACE of a logging binary)
 * @param ioUid            owner given to the OS pipes (CreateTaskRequest options io_uid)
 * @param ioGid            group given to the OS pipes
 * @param workDir          where temporary console sockets go (keep it short: sun_path is 108 bytes)
 * @param reaper           spawns binary:// loggers; may be null if none is used
 * @param readerGoneGrace  how long an output fifo may stay full before we check whether anybody still reads it
 * @param loggerReadyTimeout how long a logging binary has to signal ready
 * @param loggerStopTimeout  SIGTERM to SIGKILL delay for a logging binary (12 s in the runc shim)
 * @param tally            counts the bytes copied and copy errors (the container's, across its processes)
 */
public record IoContext(String containerId, String execId, String namespace, int ioUid, int ioGid, Path workDir,
                        Reaper reaper, Duration readerGoneGrace,
                        Duration loggerReadyTimeout, Duration loggerStopTimeout, StdioTally tally) {

    public static final Duration DEFAULT_READER_GONE_GRACE = Duration.ofSeconds(5);
    public static final Duration DEFAULT_LOGGER_READY_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_LOGGER_STOP_TIMEOUT = Duration.ofSeconds(12);

    public IoContext {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(workDir, "workDir");
        readerGoneGrace = Objects.requireNonNullElse(readerGoneGrace, DEFAULT_READER_GONE_GRACE);
        loggerReadyTimeout = Objects.requireNonNullElse(loggerReadyTimeout, DEFAULT_LOGGER_READY_TIMEOUT);
        loggerStopTimeout = Objects.requireNonNullElse(loggerStopTimeout, DEFAULT_LOGGER_STOP_TIMEOUT);
        tally = tally == null ? new StdioTally() : tally;
    }

    public static IoContext of(String containerId, String execId, String namespace, int ioUid, int ioGid,
                               Path workDir, Reaper reaper) {
        return new IoContext(containerId, execId, namespace, ioUid, ioGid, workDir, reaper, null, null, null, null);
    }

    public IoContext withTally(StdioTally counts) {
        return new IoContext(containerId, execId, namespace, ioUid, ioGid, workDir, reaper,
                readerGoneGrace, loggerReadyTimeout, loggerStopTimeout, counts);
    }

    public IoContext withReaderGoneGrace(Duration grace) {
        return new IoContext(containerId, execId, namespace, ioUid, ioGid, workDir, reaper,
                grace, loggerReadyTimeout, loggerStopTimeout, tally);
    }

    public IoContext withLoggerTimeouts(Duration ready, Duration stop) {
        return new IoContext(containerId, execId, namespace, ioUid, ioGid, workDir, reaper,
                readerGoneGrace, ready, stop, tally);
    }

    /** "container c1" or "container c1 exec e1", for log lines. */
    String label() {
        return execId == null ? "container " + containerId : "container " + containerId + " exec " + execId;
    }

    /** Copier thread names: io-<container>-<stream> (init) or io-<container>-<exec>-<stream>. */
    String threadName(String stream) {
        return execId == null ? "io-" + containerId + "-" + stream : "io-" + containerId + "-" + execId + "-" + stream;
    }

    /** The CONTAINER_ID the runc shim gives a logging binary: the exec id for an exec. */
    String loggerId() {
        return execId == null ? containerId : execId;
    }
}
