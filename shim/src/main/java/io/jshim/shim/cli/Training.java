package io.jshim.shim.cli;

import io.jshim.proto.bootstrap.BootstrapParams;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.proto.task.StateRequest;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The training run for the AOT cache ({@code scripts/install.sh}): one JVM walks the paths {@code start},
 * the daemon and {@code delete} take, without containerd, so that the classes they load (jnr-ffi, protobuf, Netty,
 * the Task service and its ttrpc face) are found parsed and linked in the cache. Usage: {@code Training DIR}.
 */
public final class Training {
    private Training() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "/tmp/jshim-training"));
        Path bundle = Files.createDirectories(dir.resolve("ns/train"));
        Files.writeString(bundle.resolve("config.json"),
                "{\"annotations\":{\"" + ShimAddress.SANDBOX_ANNOTATION + "\":\"pod\"}}");
        try {
            startPath(dir, bundle);
            daemonPath(dir, bundle);
            deletePath(bundle);
        } finally {
            try {
                Files.deleteIfExists(Path.of("/run/containerd/runc/train")); // runc's root for the namespace, if empty
            } catch (java.io.IOException notEmpty) {
                // another training's container: leave it
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(0);
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
                        (ctx, payload) -> com.google.protobuf.Empty.getDefaultInstance().toByteString())
                .build().bind(dir.resolve("c.sock.ttrpc"));
        CompletableFuture<Integer> daemon = CompletableFuture.supplyAsync(() -> {
            try {
                return new Daemon(flags, bundle).run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
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
                        com.google.protobuf.Empty.parser(), Duration.ofSeconds(10), null);
            } catch (TtrpcException closedWhileAnswering) {
                // the daemon may close the connection as it goes
            }
        }
        daemon.get(30, TimeUnit.SECONDS);
        events.close();
    }

    /**
     * A real container through the Task API (Create, Start, Wait, Delete), when runc and a static busybox are at
     * hand (as {@code make deps} installs them): the paths a cold shim takes for its first container are then in
     * the cache too. Without them the training goes on; the cache only covers less.
     */
    private static void runContainer(TtrpcClient client, String service, Path dir) {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) {
            return;
        }
        String id = "jshim-training-" + ProcessHandle.current().pid();
        Path bundle = dir.resolve("ns/" + id);
        try {
            Files.createDirectories(bundle.resolve("rootfs/bin"));
            Files.copy(busybox, bundle.resolve("rootfs/bin/busybox"));
            Files.createSymbolicLink(bundle.resolve("rootfs/bin/true"), Path.of("busybox"));
            var spec = new io.jshim.reaper.Monitor(Reaper.get()).run(
                    SpawnSpec.of("runc", "spec").withWorkDir(bundle), null, Duration.ofSeconds(30));
            if (spec.status() != 0) {
                return;
            }
            var config = new java.util.LinkedHashMap<>(
                    io.jshim.shim.json.Json.object(io.jshim.shim.json.Json.parse(Files.readString(bundle.resolve("config.json")))));
            var process = new java.util.LinkedHashMap<>(io.jshim.shim.json.Json.object(config.get("process")));
            process.put("terminal", false);
            process.put("args", List.of("/bin/true"));
            config.put("process", process);
            Files.writeString(bundle.resolve("config.json"), io.jshim.shim.json.Json.write(config));
            Duration t = Duration.ofSeconds(30);
            client.call(service, "Create", io.jshim.proto.task.CreateTaskRequest.newBuilder().setId(id)
                    .setBundle(bundle.toString()).build(), io.jshim.proto.task.CreateTaskResponse.parser(), t, null);
            client.call(service, "Start", io.jshim.proto.task.StartRequest.newBuilder().setId(id).build(),
                    io.jshim.proto.task.StartResponse.parser(), t, null);
            client.call(service, "Wait", io.jshim.proto.task.WaitRequest.newBuilder().setId(id).build(),
                    io.jshim.proto.task.WaitResponse.parser(), t, null);
            client.call(service, "State", StateRequest.newBuilder().setId(id).build(),
                    io.jshim.proto.task.StateResponse.parser(), t, null);
            client.call(service, "Delete", io.jshim.proto.task.DeleteRequest.newBuilder().setId(id).build(),
                    io.jshim.proto.task.DeleteResponse.parser(), t, null);
        } catch (Exception e) {
            System.err.println("training: no container run (" + e + ")");
        }
    }

    /** What {@code delete} does for a bundle whose container is gone. */
    private static void deletePath(Path bundle) throws Exception {
        Flags flags = Flags.parse(new String[] {"-namespace", "train", "-address", "/nonexistent", "-id", "train",
                "-bundle", bundle.toString(), "delete"});
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        new DeleteCommand(flags, bundle).run(sink, sink);
    }
}
