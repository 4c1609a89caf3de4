package io.jshim.test.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Empty;
import io.jshim.proto.eventsvc.ForwardRequest;
import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.grpc.EventsCommand;
import io.jshim.test.InstalledShim;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real shim daemon (its own JVM, run with -verbose:class): with ttrpc no gRPC class is ever loaded; with
 * JSHIM_PROTOCOL=grpc it answers containerd.task.v3.Task. And the events command prints the stream.
 */
class GrpcDaemonTest {

    /** Runs the daemon until a Shutdown; returns its class-loading log. */
    private static String runDaemon(Path dir, String protocol) throws Exception {
        Path root = InstalledShim.repoRoot().resolve("shim/target");
        String cp = root.resolve("jshim-shim-0.1.0-SNAPSHOT.jar") + ":" + root.resolve("lib") + "/*";
        Path bundle = Files.createDirectories(dir.resolve("bundle-" + protocol));
        Path socket = dir.resolve(protocol + ".sock");
        Path receiverSocket = dir.resolve(protocol + "-containerd.sock.ttrpc");
        TtrpcServer receiver = TtrpcServer.builder()
                .register(GrpcRig.FORWARD_SERVICE, "Forward", ForwardRequest.parser(), (ctx, r) -> Empty.getDefaultInstance())
                .build().bind(receiverSocket);
        Path classes = dir.resolve(protocol + "-classes.txt");
        int out = Posix.open(classes.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC, 0644);
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("JSHIM_PROTOCOL", protocol);
        env.put("TTRPC_ADDRESS", receiverSocket.toString());
        Child daemon = Reaper.get().spawn(SpawnSpec.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED", "-verbose:class", "-cp", cp, "io.jshim.shim.cli.Main",
                        "-namespace", "jshim-daemon-test", "-address", dir.resolve("containerd.sock").toString(),
                        "-id", "d-" + protocol, "-socket", socket.toString())
                .withEnv(env).withWorkDir(bundle).withFd(1, out));
        Posix.close(out);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(socket), "daemon listens on " + socket);
            if (protocol.equals("grpc")) {
                try (GrpcRig.Face v3 = grpcFace(socket)) {
                    GrpcRig.Outcome c = v3.call("Connect", ConnectRequest.newBuilder().setId("none").build(),
                            ConnectResponse.getDefaultInstance());
                    assertEquals(Code.OK, c.code(), c.message());
                    assertEquals(daemon.pid(), ((ConnectResponse) c.response()).getShimPid());
                    assertEquals(Code.OK, v3.call("Shutdown", ShutdownRequest.getDefaultInstance(),
                            Empty.getDefaultInstance()).code());
                }
            } else {
                try (TtrpcClient client = TtrpcClient.connect(socket, Duration.ofSeconds(5))) {
                    ConnectResponse c = client.call("containerd.task.v2.Task", "Connect",
                            ConnectRequest.newBuilder().setId("none").build(), ConnectResponse.parser(),
                            Duration.ofSeconds(10), Map.of());
                    assertEquals(daemon.pid(), c.getShimPid());
                    client.call("containerd.task.v2.Task", "Shutdown", ShutdownRequest.getDefaultInstance(),
                            Empty.parser(), Duration.ofSeconds(10), Map.of());
                }
            }
            assertEquals(0, daemon.onExit().get(20, TimeUnit.SECONDS).status(), "daemon exits after Shutdown");
        } finally {
            if (!daemon.onExit().isDone()) {
                Posix.kill(daemon.pid(), 9);
            }
            receiver.close();
        }
        return Files.readString(classes);
    }

    private static GrpcRig.Face grpcFace(Path socket) {
        var channel = GrpcRig.channel(socket);
        return new GrpcRig.Face() {
            @Override
            public GrpcRig.Outcome call(String method, io.jshim.proto.wire.ProtoMessage request,
                    io.jshim.proto.wire.ProtoMessage proto) {
                try {
                    return GrpcRig.Outcome.ok(io.grpc.stub.ClientCalls.blockingUnaryCall(channel,
                            io.jshim.shim.grpc.GrpcTaskFace.descriptor("containerd.task.v3.Task", method, request, proto),
                            io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request));
                } catch (io.grpc.StatusRuntimeException e) {
                    return new GrpcRig.Outcome(null, Code.of(e.getStatus().getCode().value()),
                            e.getStatus().getDescription());
                }
            }

            @Override
            public void close() {
                channel.shutdownNow();
            }
        };
    }

    @Test
    void aTtrpcShimLoadsNoGrpcClassAndAGrpcShimServesTaskV3(@TempDir Path dir) throws Exception {
        String ttrpc = runDaemon(dir, "ttrpc");
        assertTrue(ttrpc.contains("io.jshim.shim.face.TtrpcTaskServer"), "the log shows the shim's classes");
        List<String> grpcClasses = ttrpc.lines().filter(l -> l.contains("io.grpc.") || l.contains("io.jshim.shim.grpc."))
                .toList();
        assertTrue(grpcClasses.isEmpty(), "no gRPC class loaded by a ttrpc shim: " + grpcClasses);
        long loaded = ttrpc.lines().filter(l -> l.contains("[class,load]")).count();

        String grpc = runDaemon(dir, "grpc");
        long grpcLoaded = grpc.lines().filter(l -> l.contains("[class,load]")).count();
        assertTrue(grpc.contains("io.grpc.netty.NettyServer"), "the gRPC shim does load gRPC");
        System.out.printf("classes loaded: ttrpc shim %d, grpc shim %d%n", loaded, grpcLoaded);
    }

    @Test
    void aTtrpcShimServesTheEventStreamWhenAskedAndTheEventsCommandTailsIt(@TempDir Path dir) throws Exception {
        Path root = InstalledShim.repoRoot().resolve("shim/target");
        String cp = root.resolve("jshim-shim-0.1.0-SNAPSHOT.jar") + ":" + root.resolve("lib") + "/*";
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path rootfs = io.jshim.test.Busybox.rootfs(dir.resolve("rootfs"));
        Path bundle = io.jshim.test.OciBundle.of("sh", "-c", "exit 3").writeTo(dir.resolve("c1"), rootfs);
        Path socket = dir.resolve("shim.sock");
        Path receiverSocket = dir.resolve("containerd.sock.ttrpc");
        TtrpcServer receiver = TtrpcServer.builder()
                .register(GrpcRig.FORWARD_SERVICE, "Forward", ForwardRequest.parser(), (ctx, r) -> Empty.getDefaultInstance())
                .build().bind(receiverSocket);
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("JSHIM_EVENT_STREAM", "1");
        env.put("TTRPC_ADDRESS", receiverSocket.toString());
        String namespace = "jshim-stream-" + ProcessHandle.current().pid();
        Child daemon = Reaper.get().spawn(SpawnSpec.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                        "io.jshim.shim.cli.Main", "-namespace", namespace, "-address",
                        dir.resolve("containerd.sock").toString(), "-id", "c1", "-socket", socket.toString())
                .withEnv(env).withWorkDir(Files.createDirectories(dir.resolve("shim-bundle"))));
        Path events = Path.of(socket + ".events");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(events) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(events), "the event stream listens on " + events);
            Map<String, String> md = Map.of("containerd-namespace-ttrpc", namespace);
            try (TtrpcClient client = TtrpcClient.connect(socket, Duration.ofSeconds(5))) {
                String v2 = "containerd.task.v2.Task";
                Duration t = Duration.ofSeconds(30);
                client.call(v2, "Create", io.jshim.proto.task.CreateTaskRequest.newBuilder().setId("c1")
                        .setBundle(bundle.toString()).build(), io.jshim.proto.task.CreateTaskResponse.parser(), t, md);
                client.call(v2, "Start", io.jshim.proto.task.StartRequest.newBuilder().setId("c1").build(),
                        io.jshim.proto.task.StartResponse.parser(), t, md);
                client.call(v2, "Wait", io.jshim.proto.task.WaitRequest.newBuilder().setId("c1").build(),
                        io.jshim.proto.task.WaitResponse.parser(), t, md);
                client.call(v2, "Delete", io.jshim.proto.task.DeleteRequest.newBuilder().setId("c1").build(),
                        io.jshim.proto.task.DeleteResponse.parser(), t, md);
                // the events command, run as users run it: its own process, reading the stream from the start
                io.jshim.reaper.CommandResult tail = new io.jshim.reaper.Monitor(Reaper.get()).run(SpawnSpec.of(java,
                        "--enable-native-access=ALL-UNNAMED", "-cp", cp, "io.jshim.shim.cli.Main", "events",
                        "--address", "unix://" + events, "--from-start", "--count", "4"), null, Duration.ofSeconds(30));
                assertEquals(0, tail.status(), tail.stderrText());
                List<String> topics = tail.stdoutText().lines().map(l -> l.split(" ")[2]).toList();
                assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"), topics,
                        tail.stdoutText());
                assertTrue(tail.stdoutText().lines().toList().get(2).contains("\"exit_status\":3"), tail.stdoutText());
                client.call(v2, "Shutdown", ShutdownRequest.getDefaultInstance(), Empty.parser(), t, md);
            }
            assertEquals(0, daemon.onExit().get(20, TimeUnit.SECONDS).status(), "daemon exits after Shutdown");
            assertFalse(Files.exists(events), "the event socket is removed on exit");
        } finally {
            if (!daemon.onExit().isDone()) {
                Posix.kill(daemon.pid(), 9);
            }
            io.jshim.test.PrivateContainerd.deleteRuncRoot(namespace);
            receiver.close();
        }
    }

    @Test
    void theEventsCommandPrintsOneLinePerEventInOrder(@TempDir Path dir) throws Exception {
        try (GrpcRig rig = new GrpcRig(dir)) {
            for (int i = 1; i <= 3; i++) {
                rig.queue.publish(io.jshim.proto.events.TaskExit.newBuilder().setContainerId("c" + i).setId("c" + i)
                        .setPid(100 + i).setExitStatus(i).build());
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = EventsCommand.run(List.of("--address", "unix://" + rig.grpcSocket, "--from-start", "--count", "3"),
                    "", new PrintStream(bytes, true, StandardCharsets.UTF_8), new PrintStream(err));
            assertEquals(0, code, err.toString());
            List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
            assertEquals(3, lines.size(), lines.toString());
            for (int i = 1; i <= 3; i++) {
                String l = lines.get(i - 1);
                assertTrue(l.matches(i + " \\d{4}-\\d\\d-\\d\\dT\\S+Z /tasks/exit " + GrpcRig.NAMESPACE
                        + " \\{\"container_id\":\"c" + i + "\",\"id\":\"c" + i + "\",\"pid\":" + (100 + i)
                        + ",\"exit_status\":" + i + "\\}"), l);
            }
            assertFalse(err.toString().contains("Exception"), err.toString());
        }
    }
}
