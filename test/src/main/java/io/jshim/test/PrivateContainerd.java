package io.jshim.test;

import io.jshim.reaper.Child;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Exit;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A containerd of the test's own: its own root, state, sockets and config under one directory, started as a
 * child of the test JVM and stopped by pid. Other containerd instances on the machine are never touched. Which
 * containerd (the system's 1.6, or 2.x unpacked by {@code make test-containerd2}) is a {@link ContainerdRelease}.
 */
public final class PrivateContainerd implements AutoCloseable {
    private final ContainerdRelease release;
    private final Path dir;
    private final Path socket;
    private final Path logFile;
    private final List<String> extraPath;
    /** Set in containerd's environment, so in every shim it starts (e.g. JSHIM_IDLE_EXIT). */
    private final java.util.Map<String, String> extraEnv;
    /** Whether its shims may keep a warm standby (JSHIM_STANDBY): off but in the tests and bench that measure it. */
    private final boolean standby;
    /** A namespace of this test JVM's own, so runc state never meets another run's. */
    private final String namespace = "jshim-e2e-" + ProcessHandle.current().pid();
    private Child process;

    private PrivateContainerd(ContainerdRelease release, Path dir, java.util.Map<String, String> extraEnv,
            List<String> extraPath, boolean standby) {
        this.release = release;
        this.extraEnv = extraEnv;
        this.standby = standby;
        this.dir = dir;
        this.socket = socketIn(dir);
        this.logFile = dir.resolve("containerd.log");
        this.extraPath = extraPath;
    }

    /** Starts containerd in {@code dir}; {@code pathDirs} go in front of PATH (where the shim binary is). */
    public static PrivateContainerd start(Path dir, String... pathDirs) throws IOException, InterruptedException {
        return start(ContainerdRelease.SYSTEM, dir, pathDirs);
    }

    /** As {@link #start(Path, String...)}, with {@code env} added to containerd's (and so its shims') environment. */
    public static PrivateContainerd start(Path dir, java.util.Map<String, String> env, String... pathDirs)
            throws IOException, InterruptedException {
        return start(ContainerdRelease.SYSTEM, dir, env, pathDirs);
    }

    /** Starts {@code release}'s containerd in {@code dir}; {@code pathDirs} go in front of PATH. */
    public static PrivateContainerd start(ContainerdRelease release, Path dir, String... pathDirs)
            throws IOException, InterruptedException {
        return start(release, dir, java.util.Map.of(), pathDirs);
    }

    /** The same with {@code env} added to containerd's environment, which the shims it runs inherit. */
    public static PrivateContainerd start(ContainerdRelease release, Path dir, java.util.Map<String, String> env,
            String... pathDirs) throws IOException, InterruptedException {
        PrivateContainerd c = new PrivateContainerd(release, dir, env, Arrays.asList(pathDirs), false);
        c.writeConfig();
        c.launch();
        return c;
    }

    /** As {@link #start(Path, String...)}; {@code standby}: jshim boots warm standbys for this containerd. */
    public static PrivateContainerd start(Path dir, boolean standby, String... pathDirs)
            throws IOException, InterruptedException {
        PrivateContainerd c = new PrivateContainerd(ContainerdRelease.SYSTEM, dir, java.util.Map.of(),
                Arrays.asList(pathDirs), standby);
        c.writeConfig();
        c.launch();
        return c;
    }

    /**
     * Starts containerd in {@code dir} with {@code config} as its config.toml in place of the default one (e.g. with
     * the CRI plugin on); it must use this class's layout: {@code root} and {@code state} under {@code dir}, the
     * socket {@link #socketIn}{@code (dir)} and the ttrpc socket beside it with {@code .ttrpc} appended.
     */
    public static PrivateContainerd startWithConfig(Path dir, String config, String... pathDirs)
            throws IOException, InterruptedException {
        return startWithConfig(dir, config, false, java.util.Map.of(), pathDirs);
    }

    /** As {@link #startWithConfig(Path, String, String...)}; {@code standby} and {@code env} as in {@link #start}. */
    public static PrivateContainerd startWithConfig(Path dir, String config, boolean standby,
            java.util.Map<String, String> env, String... pathDirs) throws IOException, InterruptedException {
        PrivateContainerd c = new PrivateContainerd(ContainerdRelease.SYSTEM, dir, env, Arrays.asList(pathDirs), standby);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.toml"), config);
        c.launch();
        return c;
    }

    /** The gRPC socket of a containerd started in {@code dir}. */
    public static Path socketIn(Path dir) {
        return dir.resolve("c.sock");
    }

    private void writeConfig() throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.toml"), release.config(dir.resolve("root"), dir.resolve("state"), socket));
    }

    public ContainerdRelease release() {
        return release;
    }

    /** (Re)starts the daemon with the same root, state and sockets. */
    public void launch() throws IOException, InterruptedException {
        String path = String.join(":", extraPath) + (extraPath.isEmpty() ? "" : ":") + System.getenv("PATH");
        var env = new java.util.HashMap<>(System.getenv());
        env.put("PATH", path);
        env.putAll(extraEnv);
        if (!standby) {
            env.put("JSHIM_STANDBY", "0");
        }
        int log = Posix.open(logFile.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC, 0644);
        try {
            process = Reaper.get().spawn(SpawnSpec.of(release.containerd(), "--config", dir.resolve("config.toml").toString())
                    .withEnv(env).withFd(1, log).withFd(2, log).withNewSession());
        } finally {
            Posix.close(log);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket) && Files.exists(Path.of(socket + ".ttrpc")) && ctrQuietly("version")) {
                return;
            }
            if (process.onExit().isDone()) {
                throw new IOException("containerd exited at start: " + log());
            }
            Thread.sleep(50);
        }
        throw new IOException("containerd did not come up in 30 s: " + log());
    }

    private boolean ctrQuietly(String... args) {
        try {
            return ctr(args).status() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Stops containerd (SIGTERM, then SIGKILL) and waits for it; shims it started keep running. */
    public void stop() throws InterruptedException {
        if (process == null || process.onExit().isDone()) {
            return;
        }
        try {
            Posix.kill(process.pid(), 15);
            process.onExit().get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            try {
                Posix.kill(process.pid(), 9);
            } catch (IOException ignored) {
                // gone
            }
        } catch (Exception ignored) {
            // gone already
        }
    }

    public CommandResult ctr(String... args) throws IOException, InterruptedException, TimeoutException {
        return ctr(Duration.ofSeconds(60), null, args);
    }

    public CommandResult ctr(Duration timeout, byte[] stdin, String... args)
            throws IOException, InterruptedException, TimeoutException {
        List<String> argv = ctrCommand();
        argv.addAll(List.of(args));
        return new Monitor(Reaper.get()).run(SpawnSpec.of(argv.toArray(String[]::new)), stdin, timeout);
    }

    /** ctr that must succeed; its stdout. */
    public String ctrOk(String... args) throws Exception {
        CommandResult r = ctr(args);
        if (r.status() != 0) {
            throw new AssertionError("ctr " + String.join(" ", args) + " failed (" + r.status() + "): "
                    + r.stderrText() + r.stdoutText());
        }
        return r.stdoutText();
    }

    /** Starts a long-running ctr (e.g. {@code ctr events}) writing its stdout to {@code out}. */
    public Child ctrBackground(Path out, String... args) throws IOException {
        List<String> argv = ctrCommand();
        argv.addAll(List.of(args));
        int fd = Posix.open(out.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC | Posix.O_CLOEXEC, 0644);
        try {
            return Reaper.get().spawn(SpawnSpec.of(argv.toArray(String[]::new)).withFd(1, fd).withFd(2, fd));
        } finally {
            Posix.close(fd);
        }
    }

    /** {@code ctr} aimed at this containerd and this run's namespace. */
    public List<String> ctrCommand() {
        return new ArrayList<>(List.of(release.ctr(), "--address", socket.toString(), "--namespace", namespace));
    }

    public String namespace() {
        return namespace;
    }

    public Path socket() {
        return socket;
    }

    public Path ttrpcSocket() {
        return Path.of(socket + ".ttrpc");
    }

    public Path root() {
        return dir.resolve("root");
    }

    public Path state() {
        return dir.resolve("state");
    }

    public Optional<Integer> pid() {
        return process == null || process.onExit().isDone() ? Optional.empty() : Optional.of(process.pid());
    }

    public String log() {
        try {
            return Files.readString(logFile);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /**
     * Stops containerd, then ends what a failed test may have left: shims this containerd started (found by its
     * unique address on their command line) and runc containers in this run's namespace.
     */
    @Override
    public void close() throws InterruptedException {
        stop();
        String marker = "-address\0" + socket + "\0";
        Set<String> killed = new HashSet<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = Files.readString(p.resolve("cmdline"));
                    if (cmdline.contains(marker)) {
                        int pid = Integer.parseInt(p.getFileName().toString());
                        Posix.kill(pid, 9);
                        killed.add(Integer.toString(pid));
                        removeStandbyFiles(cmdline);
                        // a shim JVM that a test attached jcmd to leaves its attach socket when killed
                        Files.deleteIfExists(Path.of(System.getProperty("java.io.tmpdir"), ".java_pid" + pid));
                    }
                } catch (IOException | RuntimeException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException ignored) {
            // no /proc: nothing to do
        }
        removeDaemonRegistrations(killed);
        deleteRuncRoot(namespace);
    }

    /**
     * The node exporter's registrations (/run/jshim/daemons/PID) of this containerd's daemons that are gone: a daemon
     * a test SIGKILLed cannot remove its own (the exporter would, at its next scrape; a test leaves none behind).
     */
    private void removeDaemonRegistrations(Set<String> killed) {
        String mine = "containerd_address=" + socket + "\n";
        try (var files = Files.list(Path.of("/run/jshim/daemons"))) {
            for (Path f : files.toList()) {
                try {
                    String pid = f.getFileName().toString();
                    if (Files.readString(f).contains(mine)
                            && (killed.contains(pid) || !Files.exists(Path.of("/proc", pid)))) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException | RuntimeException gone) {
                    // removed meanwhile
                }
            }
        } catch (IOException none) {
            // no registry: no daemon of ours registered
        }
    }

    /** A killed standby's control socket, lock and log ({@code ... standby <control>.sock <containerd pid>}). */
    private static void removeStandbyFiles(String cmdline) throws IOException {
        List<String> args = List.of(cmdline.split("\0"));
        int i = args.indexOf("standby");
        if (i > 0 && i == args.size() - 3 && args.get(i + 1).endsWith(".sock")) {
            String base = args.get(i + 1).substring(0, args.get(i + 1).length() - ".sock".length());
            for (String suffix : List.of(".sock", ".lock", ".log")) {
                Files.deleteIfExists(Path.of(base + suffix));
            }
        }
    }

    /**
     * Removes runc's state root of a test's own namespace, {@code /run/containerd/runc/<namespace>}, with any
     * container runc still has there: runc makes the directory on any command given that root, and a shim run by a
     * test gives it one for the test's namespace.
     */
    public static void deleteRuncRoot(String namespace) {
        Path runcRoot = Path.of("/run/containerd/runc", namespace);
        try (var states = Files.list(runcRoot)) {
            for (Path c : states.toList()) {
                new Monitor(Reaper.get()).run(SpawnSpec.of("runc", "--root", runcRoot.toString(), "delete", "--force",
                        c.getFileName().toString()), null, Duration.ofSeconds(30));
            }
            Files.deleteIfExists(runcRoot);
        } catch (Exception ignored) {
            // nothing left
        }
    }

    /** Exit of a background child, for tests that wait on one. */
    public static Exit await(Child child, Duration timeout) throws Exception {
        return child.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
