package io.jshim.shim.runc;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.CallTally;
import io.jshim.shim.Waits;
import io.jshim.proto.json.Json;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the OCI runtime binary for one container: {@code <binary> --root <root>/<ns> --log <bundle>/log.json
 * --log-format json [--systemd-cgroup] <command> ...}. Every call goes through the reaper's {@link Monitor},
 * so runc's own exit status is never stolen by the shim's waitpid(-1) reaper. Stateless and thread-safe:
 * it holds no lock, so callers decide what may run concurrently. The process-wide {@link #CALLS} counts every
 * call for the shim's metrics, and each call is a {@link Waits} entry while it runs (stuck ones are logged).
 */
public final class Runc {
    private static final Logger log = LoggerFactory.getLogger(Runc.class);
    public static final String DEFAULT_ROOT = "/run/containerd/runc";
    static final Duration TIMEOUT = Duration.ofMinutes(2);
    /** The subcommands the shim runs, in the order of {@link #CALLS}' names. */
    private static final List<String> SUBCOMMANDS = List.of("create", "restore", "start", "exec", "kill", "delete",
            "pause", "resume", "update", "ps", "checkpoint");
    /** Every runc call of this process by subcommand; outcome 0 = exit status 0, 1 = failed. */
    public static final CallTally CALLS = new CallTally(SUBCOMMANDS, 2);

    private final Monitor monitor;
    private final String binary;
    private final Path root;
    private final Path logFile;
    private final boolean systemdCgroup;

    public Runc(Monitor monitor, String binary, Path root, Path logFile, boolean systemdCgroup) {
        this.monitor = monitor;
        this.binary = binary == null || binary.isEmpty() ? "runc" : binary;
        this.root = root;
        this.logFile = logFile;
        this.systemdCgroup = systemdCgroup;
    }

    /** {@code root} option or the default, plus the namespace, as the reference lays runc state out. */
    public static Path rootFor(String optionRoot, String namespace) {
        return Path.of(optionRoot == null || optionRoot.isEmpty() ? DEFAULT_ROOT : optionRoot, namespace);
    }

    public String binary() {
        return binary;
    }

    public record CreateArgs(Path bundle, Path pidFile, Optional<Path> consoleSocket, boolean noPivot,
                             boolean noNewKeyring, Map<Integer, Integer> stdio) {}

    public void create(String id, CreateArgs a) throws RuncException, IOException {
        List<String> args = new ArrayList<>(List.of("create", "--bundle", a.bundle().toString(),
                "--pid-file", a.pidFile().toString()));
        a.consoleSocket().ifPresent(s -> args.addAll(List.of("--console-socket", s.toString())));
        if (a.noPivot()) {
            args.add("--no-pivot");
        }
        if (a.noNewKeyring()) {
            args.add("--no-new-keyring");
        }
        args.add(id);
        run("create", id, args, containerStdio(a.stdio()), null);
    }

    public record RestoreArgs(Path bundle, Path pidFile, Path imagePath, Path workPath, Optional<Path> parentPath,
                              Optional<Path> consoleSocket, boolean noPivot, Map<Integer, Integer> stdio) {}

    public void restore(String id, RestoreArgs a) throws RuncException, IOException {
        List<String> args = new ArrayList<>(List.of("restore", "--detach", "--no-subreaper",
                "--bundle", a.bundle().toString(), "--pid-file", a.pidFile().toString(),
                "--image-path", a.imagePath().toString(), "--work-path", a.workPath().toString()));
        a.parentPath().ifPresent(p -> args.addAll(List.of("--parent-path", p.toString())));
        a.consoleSocket().ifPresent(s -> args.addAll(List.of("--console-socket", s.toString())));
        if (a.noPivot()) {
            args.add("--no-pivot");
        }
        args.add(id);
        run("restore", id, args, containerStdio(a.stdio()), null);
    }

    public void start(String id) throws RuncException, IOException {
        run("start", id, List.of("start", id), Map.of(), null);
    }

    public record ExecArgs(Path processJson, Path pidFile, Optional<Path> consoleSocket, Map<Integer, Integer> stdio) {}

    public void exec(String id, ExecArgs a) throws RuncException, IOException {
        List<String> args = new ArrayList<>(List.of("exec", "--detach", "--process", a.processJson().toString(),
                "--pid-file", a.pidFile().toString()));
        a.consoleSocket().ifPresent(s -> args.addAll(List.of("--console-socket", s.toString())));
        args.add(id);
        run("exec", id, args, containerStdio(a.stdio()), null);
    }

    public void kill(String id, int signal, boolean all) throws RuncException, IOException {
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.add(id);
        args.add(Integer.toString(signal));
        run("kill", id, args, Map.of(), null);
    }

    public void delete(String id, boolean force) throws RuncException, IOException {
        run("delete", id, force ? List.of("delete", "--force", id) : List.of("delete", id), Map.of(), null);
    }

    public void pause(String id) throws RuncException, IOException {
        run("pause", id, List.of("pause", id), Map.of(), null);
    }

    public void resume(String id) throws RuncException, IOException {
        run("resume", id, List.of("resume", id), Map.of(), null);
    }

    /** {@code runc update --resources -}: the resources JSON (an OCI LinuxResources) on stdin. */
    public void update(String id, byte[] resourcesJson) throws RuncException, IOException {
        run("update", id, List.of("update", "--resources", "-", id), Map.of(), resourcesJson);
    }

    /** The pids in the container, from {@code runc ps --format json}. */
    public List<Integer> ps(String id) throws RuncException, IOException {
        CommandResult r = run("ps", id, List.of("ps", "--format", "json", id), Map.of(), null);
        String out = r.stdoutText().trim();
        List<Integer> pids = new ArrayList<>();
        if (out.isEmpty() || out.equals("null")) {
            return pids;
        }
        Object array = Json.parse(out);
        if (!(array instanceof List<?>)) {
            throw new IOException("runc ps: not a JSON array: " + out);
        }
        for (Object pid : Json.array(array)) {
            if (!(pid instanceof Long l)) {
                throw new IOException("runc ps: not a pid: " + pid);
            }
            pids.add(Math.toIntExact(l));
        }
        return pids;
    }

    public record CheckpointArgs(Path imagePath, Path workPath, Optional<Path> parentPath, boolean leaveRunning,
                                 boolean tcpEstablished, boolean externalUnixSockets, boolean shellJob,
                                 boolean fileLocks, List<String> emptyNamespaces, String cgroupsMode) {}

    public void checkpoint(String id, CheckpointArgs a) throws RuncException, IOException {
        run("checkpoint", id, checkpointArgs(id, a), Map.of(), null);
    }

    /** The exact command line of a checkpoint; a recording runc wrapper in the tests checks it. */
    static List<String> checkpointArgs(String id, CheckpointArgs a) {
        List<String> args = new ArrayList<>(List.of("checkpoint", "--image-path", a.imagePath().toString(),
                "--work-path", a.workPath().toString()));
        a.parentPath().ifPresent(p -> args.addAll(List.of("--parent-path", p.toString())));
        if (a.leaveRunning()) {
            args.add("--leave-running");
        }
        if (a.tcpEstablished()) {
            args.add("--tcp-established");
        }
        if (a.externalUnixSockets()) {
            args.add("--ext-unix-sk");
        }
        if (a.shellJob()) {
            args.add("--shell-job");
        }
        if (a.fileLocks()) {
            args.add("--file-locks");
        }
        for (String ns : a.emptyNamespaces()) {
            args.addAll(List.of("--empty-ns", ns));
        }
        if (a.cgroupsMode() != null && !a.cgroupsMode().isEmpty()) {
            args.addAll(List.of("--manage-cgroups-mode", a.cgroupsMode()));
        }
        args.add(id);
        return args;
    }

    private List<String> globalArgs() {
        List<String> argv = new ArrayList<>(List.of(binary, "--root", root.toString(),
                "--log", logFile.toString(), "--log-format", "json"));
        if (systemdCgroup) {
            argv.add("--systemd-cgroup");
        }
        return argv;
    }

    /** Opened once: the container's stdio for streams it was not given (runc's own would be captured). */
    private static volatile int devNull = -1;

    private static synchronized int devNull() throws IOException {
        if (devNull < 0) {
            devNull = Posix.open("/dev/null", Posix.O_RDWR | Posix.O_CLOEXEC, 0);
        }
        return devNull;
    }

    /** A container's stdio for runc: every one of 0, 1 and 2 is given, /dev/null where the process has none. */
    private static Map<Integer, Integer> containerStdio(Map<Integer, Integer> fds) throws IOException {
        Map<Integer, Integer> all = new java.util.HashMap<>(fds);
        for (int fd = 0; fd <= 2; fd++) {
            if (!all.containsKey(fd)) {
                all.put(fd, devNull());
            }
        }
        return all;
    }

    private CommandResult run(String what, String id, List<String> args, Map<Integer, Integer> fds, byte[] stdin)
            throws RuncException, IOException {
        List<String> argv = globalArgs();
        argv.addAll(args);
        long logOffset = sizeOf(logFile);
        SpawnSpec spec = SpawnSpec.of(argv.toArray(String[]::new)).withKillOnParentDeath();
        for (Map.Entry<Integer, Integer> fd : fds.entrySet()) {
            spec = spec.withFd(fd.getKey(), fd.getValue());
        }
        CommandResult result;
        int index = SUBCOMMANDS.indexOf(what);
        long start = System.nanoTime();
        Waits.Open wait = Waits.begin(Waits.Kind.RUNC, what, id); // listed in the metrics, logged once if stuck
        boolean ok = false;
        try {
            result = monitor.run(spec, stdin, TIMEOUT);
            ok = result.status() == 0;
        } catch (TimeoutException e) {
            throw new RuncException("runc " + what + " did not finish within " + TIMEOUT, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running runc " + what, e);
        } catch (IOException e) {
            // The binary itself could not be started (ENOENT for a binary_name that does not exist).
            throw new RuncException("runc " + what + ": cannot run " + binary + ": " + e.getMessage(), -1);
        } finally {
            wait.close();
            CALLS.record(index, ok ? 0 : 1, System.nanoTime() - start);
        }
        if (result.status() != 0) {
            String message = lastError(logFile, logOffset).orElseGet(() -> result.stderrText().trim());
            if (message.isEmpty()) {
                message = "exit status " + result.status();
            }
            log.debug("runc {} failed ({}): {}", what, result.status(), message);
            throw new RuncException(message, result.status());
        }
        return result;
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The last error runc wrote to its JSON log since {@code offset}. */
    static Optional<String> lastError(Path logFile, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
            long length = f.length();
            if (length <= offset) {
                offset = 0; // the log was replaced; read it whole
            }
            byte[] bytes = new byte[(int) Math.min(length - offset, 1 << 20)];
            f.seek(length - bytes.length);
            f.readFully(bytes);
            String last = null;
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    Map<String, Object> obj = Json.object(Json.parse(line));
                    if ("error".equals(obj.get("level")) && obj.get("msg") instanceof String msg) {
                        last = msg;
                    }
                } catch (RuntimeException notJson) {
                    // a partial line at the cut: skip it
                }
            }
            return Optional.ofNullable(last);
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
