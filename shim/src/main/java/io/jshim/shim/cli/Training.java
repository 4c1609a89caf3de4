package io.jshim.shim.cli;

import io.jshim.proto.bootstrap.BootstrapParams;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.proto.task.StateRequest;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.proto.json.Json;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The training run for the AOT cache ({@code scripts/install.sh}): one JVM walks the paths {@code start},
 * the daemon and {@code delete} take, without containerd, so that the classes they load (LibcCall, protobuf, Netty,
 * the Task service and its ttrpc face) are found parsed and linked in the cache. Usage: {@code Training DIR}.
 */
public final class Training {
    private Training() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "/tmp/jshim-training"));
        Path bundle = trainingBundle(dir);
        try {
            PrintStream sink = new PrintStream(new ByteArrayOutputStream());
            Main.run(new String[] {"-v"}, sink, sink); // the entry point's own class, so the jar need not be opened
            io.jshim.reaper.Arch.require(); // as Main runs it for every command but -v
            startPath(dir, bundle);
            daemonPath(dir, bundle);
            deletePath(bundle);
        } finally {
            cleanUp(dir);
        }
        // halt, not System.exit: Runtime.exit asks a System.Logger whether to log the exit, which loads the JDK's
        // logger bootstrap, a service lookup with streams and the jimage reader (~60 classes); the training would
        // put them in the AOT cache, and so into every daemon's boot. A daemon that exits loads them then, from
        // the runtime image. Halting still writes the AOT configuration (the JVM's exit path runs for both).
        LogSetup.flush(java.time.Duration.ofSeconds(5));
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(0);
    }

    /** The daemon's path alone, in {@code dir} (removed after): a warm standby runs it on itself. */
    public static void trainDaemon(Path dir) throws Exception {
        Files.createDirectories(dir);
        try {
            daemonPath(dir, trainingBundle(dir));
        } finally {
            cleanUp(dir);
        }
    }

    private static Path trainingBundle(Path dir) throws java.io.IOException {
        Path bundle = Files.createDirectories(dir.resolve("ns/train"));
        Files.writeString(bundle.resolve("config.json"),
                "{\"annotations\":{\"" + ShimAddress.SANDBOX_ANNOTATION + "\":\"pod\"}}");
        return bundle;
    }

    private static void cleanUp(Path dir) throws java.io.IOException {
        try {
            Files.deleteIfExists(Path.of("/run/containerd/runc/train")); // runc's root for the namespace, if empty
        } catch (java.io.IOException notEmpty) {
            // another training's container: leave it
        }
        deleteTree(dir);
    }

    /** Deletes {@code path} and, for a directory (not a link to one), what it holds; best effort. By hand rather
     *  than with Files.walk: its streams would be in every daemon's AOT cache. */
    private static void deleteTree(Path path) throws java.io.IOException {
        if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
                for (Path entry : entries) {
                    deleteTree(entry);
                }
            }
        }
        path.toFile().delete();
    }

    /** What {@code start} does: flags, the group and address, a bound socket, a spawned child, the reply. */
    private static void startPath(Path dir, Path bundle) throws Exception {
        Flags flags = Flags.parse(new String[] {"-namespace", "train", "-address", dir + "/c.sock", "-publish-binary",
                "containerd", "-id", "train", "start"});
        String address = ShimAddress.address(dir, flags.get("address"), flags.get("namespace"),
                ShimAddress.group(bundle, flags.get("id")));
        int fd = UnixListener.listen(ShimAddress.socketPath(address));
        StartCommand.isAlive(ShimAddress.socketPath(address));
        Reaper.get().spawn(SpawnSpec.of("/bin/true").withWorkDir(bundle).withFd(3, fd).withNewSession())
                .onExit().get(10, TimeUnit.SECONDS);
        UnixListener.close(fd);
        BootstrapParams.parseFrom(new byte[0]);
        StartCommand.reply(new PrintStream(new ByteArrayOutputStream()), null, address);
        Files.deleteIfExists(ShimAddress.socketPath(address));
    }

    /** The daemon on a socket of its own, answering the calls containerd makes first and last. */
    private static void daemonPath(Path dir, Path bundle) throws Exception {
        Path socket = dir.resolve("d.sock");
        Flags flags = Flags.parse(new String[] {"-namespace", "train", "-address", dir + "/c.sock", "-id", "train",
                "-socket", socket.toString()});
        // containerd's event service, so the forwarder's path is trained too (and shutdown has nothing left over)
        io.jshim.ttrpc.TtrpcServer events = io.jshim.ttrpc.TtrpcServer.builder()
                .register("containerd.services.events.ttrpc.v1.Events", "Forward",
                        (ctx, payload) -> io.jshim.proto.wkt.Empty.getDefaultInstance().toByteString())
                .build().bind(dir.resolve("c.sock.ttrpc"));
        // listening as the launcher's cold start leaves it (bound, non-blocking, adopted by fd), not bound by Netty
        int listener = UnixListener.listen(socket);
        CompletableFuture<Integer> daemon = CompletableFuture.supplyAsync(() -> {
            try {
                return new Daemon(flags, bundle, listener).run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, work -> Thread.ofPlatform().name("jshim-training").start(work)); // not the common pool: its thread
        // would outlive the training in a standby, a thread no cold daemon has
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        String service = TtrpcTaskFace.SERVICES.getFirst();
        try (TtrpcClient client = TtrpcClient.connect(socket)) {
            client.call(service, "Connect", ConnectRequest.newBuilder().setId("train").build(),
                    ConnectResponse.parser(), Duration.ofSeconds(10), null);
            runContainer(client, service, dir);
            for (String id : List.of("train", "absent")) {
                try {
                    client.call(service, "State", StateRequest.newBuilder().setId(id).build(),
                            io.jshim.proto.task.StateResponse.parser(), Duration.ofSeconds(10), null);
                } catch (TtrpcException expected) {
                    // no such container: the error path is trained too
                }
            }
            try {
                client.call(service, "Shutdown", ShutdownRequest.newBuilder().setId("train").build(),
                        io.jshim.proto.wkt.Empty.parser(), Duration.ofSeconds(10), null);
            } catch (TtrpcException closedWhileAnswering) {
                // the daemon may close the connection as it goes
            }
        }
        daemon.get(30, TimeUnit.SECONDS);
        events.close();
    }

    /**
     * A real container through the Task API (Create, Start, Exec, Kill, Wait, Delete), when runc and a static
     * busybox are at hand (as {@code make deps} installs them): the paths a cold shim takes for its first container
     * and its first exec are then in the cache too. Without them the training goes on; the cache only covers less.
     */
    private static void runContainer(TtrpcClient client, String service, Path dir) {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) {
            return;
        }
        String id = "jshim-training-" + ProcessHandle.current().pid();
        Path bundle = dir.resolve("ns/" + id);
        Duration t = Duration.ofSeconds(30);
        try {
            Files.createDirectories(bundle.resolve("rootfs/bin"));
            Files.copy(busybox, bundle.resolve("rootfs/bin/busybox"));
            for (String applet : List.of("true", "sleep")) {
                Files.createSymbolicLink(bundle.resolve("rootfs/bin/" + applet), Path.of("busybox"));
            }
            var spec = new io.jshim.reaper.Monitor(Reaper.get()).run(
                    SpawnSpec.of("runc", "spec").withWorkDir(bundle), null, t);
            if (spec.status() != 0) {
                return;
            }
            var config = new java.util.LinkedHashMap<>(
                    Json.object(Json.parse(Files.readString(bundle.resolve("config.json")))));
            var process = new java.util.LinkedHashMap<>(Json.object(config.get("process")));
            process.put("terminal", false);
            process.put("args", List.of("/bin/sleep", "30"));
            config.put("process", process);
            Files.writeString(bundle.resolve("config.json"), Json.write(config));
            process.put("args", List.of("/bin/true"));
            byte[] execProcess = Json.write(process).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            // stdio as ctr gives it (fifos), and a file: the copiers' paths are trained too. The fifo is held
            // open read-write here, as containerd holds its fifos, so the shim's open does not wait for a reader.
            Path fifo = dir.resolve("stderr");
            new io.jshim.reaper.Monitor(Reaper.get()).run(SpawnSpec.of("mkfifo", fifo.toString()), null, t);
            try (var held = new java.io.RandomAccessFile(fifo.toFile(), "rw")) {
                String stdout = "file://" + dir.resolve("stdout");
                call(client, service, "Create", io.jshim.proto.task.CreateTaskRequest.newBuilder().setId(id)
                        .setBundle(bundle.toString()).setStdout(stdout).setStderr(fifo.toString()).build(), t);
                call(client, service, "Start", io.jshim.proto.task.StartRequest.newBuilder().setId(id).build(), t);
                call(client, service, "Exec", io.jshim.proto.task.ExecProcessRequest.newBuilder().setId(id)
                        .setExecId("exec").setStdout(stdout).setStderr(fifo.toString())
                        .setSpec(io.jshim.proto.wkt.Any.newBuilder()
                                .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                                .setValue(io.jshim.proto.wire.Bytes.copyFrom(execProcess))).build(), t);
                call(client, service, "Start", io.jshim.proto.task.StartRequest.newBuilder().setId(id)
                        .setExecId("exec").build(), t);
                call(client, service, "Wait", io.jshim.proto.task.WaitRequest.newBuilder().setId(id)
                        .setExecId("exec").build(), t);
                call(client, service, "Delete", io.jshim.proto.task.DeleteRequest.newBuilder().setId(id)
                        .setExecId("exec").build(), t);
                call(client, service, "Kill", io.jshim.proto.task.KillRequest.newBuilder().setId(id)
                        .setSignal(9).build(), t);
                call(client, service, "Wait", io.jshim.proto.task.WaitRequest.newBuilder().setId(id).build(), t);
                call(client, service, "State", StateRequest.newBuilder().setId(id).build(), t);
                call(client, service, "Delete", io.jshim.proto.task.DeleteRequest.newBuilder().setId(id).build(), t);
            }
        } catch (Exception e) {
            System.err.println("training: no container run (" + e + ")");
            try {
                call(client, service, "Kill", io.jshim.proto.task.KillRequest.newBuilder().setId(id).setSignal(9)
                        .setAll(true).build(), t);
                call(client, service, "Delete", io.jshim.proto.task.DeleteRequest.newBuilder().setId(id).build(), t);
            } catch (Exception ignored) {
                // nothing was created, or it is gone
            }
        }
    }

    /** One Task API call whose answer the training does not read (the parse is trained by the face anyway). */
    private static void call(TtrpcClient client, String service, String method, io.jshim.proto.wire.ProtoMessage request,
                             Duration timeout) throws Exception {
        client.call(service, method, request, io.jshim.proto.wkt.Empty.parser(), timeout, null);
    }

    /** What {@code delete} does for a bundle whose container is gone. */
    private static void deletePath(Path bundle) throws Exception {
        Flags flags = Flags.parse(new String[] {"-namespace", "train", "-address", "/nonexistent", "-id", "train",
                "-bundle", bundle.toString(), "delete"});
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        new DeleteCommand(flags, bundle).run(sink, sink);
    }
}
