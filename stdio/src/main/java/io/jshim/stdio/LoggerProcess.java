package io.jshim.stdio;

import io.jshim.reaper.Child;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A binary:// logging binary: argv = path then the query keys and values, env exactly
 * CONTAINER_ID and CONTAINER_NAMESPACE, fd 3 = stdout read end, fd 4 = stderr read end, fd 5 =
 * the "ready" pipe, 0-2 = /dev/null (as Go's exec.Cmd gives it).
 */
final class LoggerProcess {
    private static final Logger LOG = LoggerFactory.getLogger(LoggerProcess.class);

    private final Child child;
    private final String label;

    private LoggerProcess(Child child, String label) {
        this.child = child;
        this.label = label;
    }

    static List<String> argv(IoTarget.Binary target) {
        List<String> argv = new ArrayList<>();
        argv.add(target.path());
        target.query().forEach((k, v) -> {
            argv.add(k);
            argv.add(v);
        });
        return argv;
    }

    /**
     * Starts the binary and waits until it writes to or closes the ready pipe.
     *
     * @param id the CONTAINER_ID the runc shim passes: the container id for init, the exec id for an exec
     */
    static LoggerProcess start(IoTarget.Binary target, String id, String namespace, Fd stdoutRead, Fd stderrRead,
                               Reaper reaper, Duration readyTimeout, String label) throws IOException {
        if (reaper == null) {
            throw new IOException("binary:// logging needs a reaper to spawn " + target.path());
        }
        int[] ready = StdioNative.pipe();
        Fd readyRead = new Fd(ready[0], "logger ready pipe (read)");
        Fd readyWrite = new Fd(ready[1], "logger ready pipe (write)");
        Fd devNull = null;
        Child child = null;
        try {
            devNull = new Fd(StdioNative.open("/dev/null", StdioNative.O_RDWR, 0), "/dev/null");
            SpawnSpec spec = SpawnSpec.of(argv(target).toArray(String[]::new))
                    .withEnv(Map.of("CONTAINER_ID", id, "CONTAINER_NAMESPACE", namespace))
                    .withFd(0, devNull.get())
                    .withFd(1, devNull.get())
                    .withFd(2, devNull.get())
                    .withFd(3, stdoutRead.get())
                    .withFd(4, stderrRead.get())
                    .withFd(5, readyWrite.get());
            try {
                child = reaper.spawn(spec);
            } catch (IOException e) {
                throw new IOException("failed to start logging binary " + target.path() + ": " + e.getMessage(), e);
            }
            readyWrite.close();
            devNull.close();
            awaitReady(readyRead, target, readyTimeout, child);
            LOG.debug("logging binary {} (pid {}) ready for {}", target.path(), child.pid(), label);
            return new LoggerProcess(child, label);
        } catch (IOException | RuntimeException e) {
            if (child != null) {
                killQuietly(child, StdioNative.SIGKILL);
            }
            throw e;
        } finally {
            readyRead.close();
            readyWrite.close();
            if (devNull != null) {
                devNull.close();
            }
        }
    }

    /** One byte or EOF means ready; binary-v2 requires the byte. */
    private static void awaitReady(Fd readyRead, IoTarget.Binary target, Duration timeout, Child child)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(StdioNative.POLLFD_SIZE);
            MemorySegment one = arena.allocate(1);
            while (true) {
                long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (leftMillis <= 0) {
                    throw new IOException("logging binary " + target.path() + " (pid " + child.pid()
                            + ") did not signal ready within " + timeout);
                }
                StdioNative.setPollFd(pollfd, 0, readyRead.get(), StdioNative.POLLIN);
                int n = StdioNative.poll(pollfd, 1, (int) Math.min(Integer.MAX_VALUE, leftMillis));
                if (n <= 0) {
                    continue; // timeout re-checked above; EINTR retried
                }
                long r = StdioNative.read(readyRead.get(), one, 1);
                if (r == -StdioNative.EINTR || r == -StdioNative.EAGAIN) {
                    continue;
                }
                if (r < 0) {
                    throw new ErrnoException("failed to read from logging binary " + target.path(), (int) -r);
                }
                if (r == 0 && target.strictReady()) {
                    throw new IOException("logging binary " + target.path()
                            + " did not call ready (it may have crashed or exited prematurely)");
                }
                return;
            }
        }
    }

    int pid() {
        return child.pid();
    }

    /** SIGTERM so it can flush, then SIGKILL if it is still there after {@code timeout}. */
    void stop(Duration timeout) {
        if (child.onExit().isDone()) {
            return;
        }
        killQuietly(child, StdioNative.SIGTERM);
        try {
            child.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return;
        } catch (TimeoutException e) {
            LOG.warn("logging binary pid {} of {} did not exit {} after SIGTERM; killing it", child.pid(), label, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            return;
        }
        killQuietly(child, StdioNative.SIGKILL);
        try {
            child.onExit().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("logging binary pid {} of {} still not reaped after SIGKILL", child.pid(), label);
        }
    }

    private static void killQuietly(Child child, int signal) {
        try {
            child.kill(signal); // a no-op once reaped, so never hits a reused pid
        } catch (IOException e) {
            LOG.debug("kill {} {}: {}", child.pid(), signal, e.getMessage());
        }
    }
}
