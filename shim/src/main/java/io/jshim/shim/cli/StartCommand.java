package io.jshim.shim.cli;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.cgroups.Cgroup;
import io.jshim.proto.bootstrap.BootstrapParams;
import io.jshim.reaper.Child;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.runc.RuncOptionsParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code containerd-shim-jshim-v2 ... start}: finds or starts the shim of this container's group and prints its
 * address. It binds the socket itself and hands it to the daemon as fd 3, so it never waits for the daemon's JVM
 * to boot: containerd's first call waits in the listen backlog. Prints nothing but the reply, stdout and stderr
 * both, because containerd 1.6 reads them merged as the address.
 */
final class StartCommand {
    private final Flags flags;
    private final Path bundle;
    private final byte[] stdin;

    StartCommand(Flags flags, Path bundle, byte[] stdin) {
        this.flags = flags;
        this.bundle = bundle;
        this.stdin = stdin;
    }

    /** What containerd 2.3+ sends on stdin; null for 1.6–2.2 (options Any or nothing). */
    BootstrapParams bootstrap() {
        if (stdin.length == 0) {
            return null;
        }
        try {
            BootstrapParams p = BootstrapParams.parseFrom(stdin);
            // An options Any parses too (fields 1 and 2 are strings in both): tell them apart by content.
            if (p.getInstanceId().equals(flags.get("id")) && p.getNamespace().equals(flags.get("namespace"))) {
                return p;
            }
        } catch (InvalidProtoException notBootstrap) {
            // the options Any of 1.6–2.2
        }
        return null;
    }

    int run(PrintStream out) throws IOException, InterruptedException {
        String id = flags.get("id");
        String namespace = flags.get("namespace");
        if (namespace.isEmpty()) {
            throw new IllegalArgumentException("shim namespace cannot be empty");
        }
        io.jshim.shim.face.Protocol.fromEnvironment(); // a bad JSHIM_PROTOCOL fails here, before any daemon starts
        BootstrapParams params = bootstrap();
        Path socketDir = params != null && params.hasSocketDir() && !params.getSocketDir().isEmpty()
                ? Path.of(params.getSocketDir()) : ShimAddress.SOCKET_DIR;
        String containerdAddress = flags.get("address");
        if (params != null && !params.getContainerdGrpcAddress().isEmpty()) {
            containerdAddress = params.getContainerdGrpcAddress();
        }
        String group = ShimAddress.group(bundle, id);
        String address = ShimAddress.address(socketDir, containerdAddress, namespace, group);
        Path socket = ShimAddress.socketPath(address);
        Files.createDirectories(socket.getParent());

        int listener = -1;
        for (int attempt = 0; attempt < 2 && listener < 0; attempt++) {
            try {
                listener = UnixListener.listen(socket);
            } catch (UnixListener.BindException e) {
                if (e.errno != UnixListener.EADDRINUSE) {
                    throw e;
                }
                if (isAlive(socket)) {
                    // A shim of this group is running: this container joins it.
                    writeAddress(address);
                    reply(out, params, address);
                    return 0;
                }
                Files.deleteIfExists(socket); // stale: its shim is gone
            }
        }
        if (listener < 0) {
            throw new IOException("cannot listen on " + socket);
        }
        Child daemon;
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            daemon = spawnDaemon(listener, params, socket);
        } catch (IOException | RuntimeException e) {
            UnixListener.close(listener);
            Files.deleteIfExists(socket);
            throw e;
        }
        UnixListener.close(listener);
        try {
            adjustOomScore(daemon.pid());
            placeInShimCgroup(daemon.pid(), params);
            writeBundleFile("shim.pid", Integer.toString(daemon.pid())); // as the reference: who serves this bundle
            writeAddress(address);
        } catch (IOException | RuntimeException e) {
            try {
                io.jshim.reaper.Posix.kill(daemon.pid(), 9);
            } catch (IOException ignored) {
                // gone already
            }
            Files.deleteIfExists(socket);
            throw e;
        }
        reply(out, params, address);
        return 0;
    }

    private Child spawnDaemon(int listener, BootstrapParams params, Path socket) throws IOException {
        List<String> argv = new ArrayList<>(Launcher.command());
        argv.addAll(flags.toArgs());
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("JSHIM_SOCKET", socket.toString()); // the daemon removes it when it exits
        // the daemon's debug log tells where the milliseconds of a cold start went, this process's first
        env.put("JSHIM_START_TIMELINE", "start command " + StartupTimeline.sinceProcessStart().elapsedMillis()
                + " ms until it spawned the daemon; daemon: ");
        if (params != null) {
            // containerd 2.3+ passes these in BootstrapParams rather than the environment.
            if (!params.getContainerdTtrpcAddress().isEmpty()) {
                env.put("TTRPC_ADDRESS", params.getContainerdTtrpcAddress());
            }
            env.put("JSHIM_LOG_LEVEL", params.getLogLevel().name());
        }
        SpawnSpec spec = SpawnSpec.of(argv.toArray(String[]::new))
                .withEnv(env)
                .withWorkDir(bundle)
                .withFd(3, listener)
                .withNewSession();
        return Reaper.get().spawn(spec);
    }

    /**
     * {@code Options.shim_cgroup}: containerd 1.6–2.2 send the runtime options as an Any on stdin; like the
     * reference, the daemon is moved into that cgroup (v1 path in every hierarchy, or v2 under /sys/fs/cgroup).
     */
    private void placeInShimCgroup(int pid, BootstrapParams params) throws IOException {
        if (params != null || stdin.length == 0) {
            return;
        }
        String shimCgroup;
        try {
            shimCgroup = RuncOptionsParser.parse(Any.parseFrom(stdin)).getShimCgroup();
        } catch (InvalidProtoException | RuntimeException notOptions) {
            return; // no runc options on stdin: nothing asks for a shim cgroup
        }
        if (!shimCgroup.isEmpty()) {
            Cgroup.movePidTo(pid, shimCgroup);
        }
    }

    /** Like the reference: the daemon's oom_score_adj is containerd's (inherited by us) + 1, capped at 1000. */
    static void adjustOomScore(int pid) throws IOException {
        int own = Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).trim());
        int target = Math.min(own + 1, 1000);
        Files.writeString(Path.of("/proc/" + pid + "/oom_score_adj"), Integer.toString(target));
    }

    private void writeAddress(String address) throws IOException {
        writeBundleFile("address", address);
    }

    /** Written whole or not at all: containerd may read it at any moment after a restart. */
    private void writeBundleFile(String name, String content) throws IOException {
        Path tmp = bundle.resolve("." + name);
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, bundle.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Whether a shim listens on {@code socket}: its listening socket is in /proc/net/unix (flag __SO_ACCEPTCON,
     * stream, unconnected), which a stale socket file left by a dead shim is not; the launcher asks the same
     * question the same way. (Connecting, as the reference does, would make this JVM load the JDK's unix-socket
     * classes, which seed a SecureRandom: ~50 classes more in every daemon's AOT cache.)
     */
    static boolean isAlive(Path socket) {
        String path = socket.toString();
        try (BufferedReader table = Files.newBufferedReader(Path.of("/proc/net/unix"), StandardCharsets.US_ASCII)) {
            for (String line = table.readLine(); line != null; line = table.readLine()) {
                String[] f = io.jshim.shim.Fields.spaceSeparated(line);
                if (f.length == 8 && f[7].equals(path) && f[3].equals("00010000") && f[4].equals("0001")
                        && f[5].equals("01")) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /**
     * The reply: a BootstrapResult when containerd 2.3+ sent BootstrapParams; otherwise the bare address, which
     * containerd 1.6 requires and 2.0–2.2 read as version 2 over ttrpc. No newline.
     */
    static void reply(PrintStream out, BootstrapParams params, String address) throws IOException {
        reply(out, io.jshim.shim.face.Protocol.fromEnvironment(), params, address);
    }

    /** With JSHIM_PROTOCOL=grpc: version 3 over gRPC, as JSON (2.0–2.2) or a BootstrapResult (2.3+). */
    static void reply(PrintStream out, io.jshim.shim.face.Protocol protocol, BootstrapParams params, String address)
            throws IOException {
        out.write(io.jshim.shim.face.StartReply.of(protocol, params != null, address));
        out.flush();
    }
}
