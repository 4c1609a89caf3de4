package io.jshim.test.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Empty;
import io.jshim.proto.eventsvc.ForwardRequest;
import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import io.jshim.test.PromExposition;
import io.jshim.ttrpc.TtrpcServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed {@code exporter} scrapes a real daemon serving gRPC ({@code JSHIM_PROTOCOL=grpc}) over its gRPC
 * socket: once the daemon has registered in /run/jshim/daemons, {@code /metrics} has it up with its own series
 * (its {@code jshim_info}) labelled by its pid; SIGKILLed, it leaves the next scrape and its registration is
 * removed. Other daemons on the node are scraped too: only this test's pid is asserted on.
 */
class ExporterGrpcTest {
    static final Path REGISTRY = Path.of("/run/jshim/daemons");
    static final Duration LIMIT = Duration.ofSeconds(60);
    static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void theExporterScrapesADaemonServingGrpc(@TempDir Path dir) throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path root = InstalledShim.repoRoot().resolve("shim/target");
        String cp = root.resolve("jshim-shim-0.1.0-SNAPSHOT.jar") + ":" + root.resolve("lib") + "/*";
        String namespace = "jshim-exporter-grpc-" + ProcessHandle.current().pid();
        Path containerd = dir.resolve("containerd.sock");
        Path receiverSocket = dir.resolve("containerd.sock.ttrpc");
        // containerd's Events/Forward, so that the daemon's forwarder has somewhere to send
        TtrpcServer receiver = TtrpcServer.builder()
                .register(GrpcRig.FORWARD_SERVICE, "Forward", ForwardRequest.parser(),
                        (ctx, r) -> Empty.getDefaultInstance())
                .build().bind(receiverSocket);
        Files.createDirectories(REGISTRY); // as the daemon makes it, so that it can be watched before
        Child daemon = null;
        Child exporter = null;
        try (WatchService registrations = watch(REGISTRY); WatchService logs = watch(dir)) {
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("JSHIM_PROTOCOL", "grpc");
            env.put("TTRPC_ADDRESS", receiverSocket.toString());
            daemon = spawn(dir.resolve("daemon.log"), SpawnSpec.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", cp, "io.jshim.shim.cli.Main",
                    "-namespace", namespace, "-address", containerd.toString(), "-id", "g1",
                    "-socket", dir.resolve("grpc.sock").toString())
                    .withEnv(env).withWorkDir(Files.createDirectories(dir.resolve("bundle"))));
            int pid = daemon.pid();
            Path registration = REGISTRY.resolve(Integer.toString(pid));
            Child d = daemon;
            await(registrations, () -> Files.exists(registration), d, "daemon registered as " + registration,
                    dir.resolve("daemon.log"));
            assertTrue(Files.readString(registration).contains("\nprotocol=grpc\n"), Files.readString(registration));

            Path exporterLog = dir.resolve("exporter.log");
            exporter = spawn(exporterLog, SpawnSpec.of(bin.resolve("containerd-shim-jshim-v2").toString(),
                    "exporter", "--listen", "127.0.0.1:0", "--timeout", "10s"));
            Child e = exporter;
            await(logs, () -> LISTENING.matcher(Files.readString(exporterLog)).find(), e, "exporter listening",
                    exporterLog);
            Matcher m = LISTENING.matcher(Files.readString(exporterLog));
            assertTrue(m.find());
            int port = Integer.parseInt(m.group(1));

            HttpResponse<String> r = get(port);
            assertEquals(200, r.statusCode(), r.body());
            PromExposition text = PromExposition.parse(r.body());
            Map<String, String> ours = Map.of("pid", Integer.toString(pid), "containerd_address",
                    containerd.toString());
            assertEquals(1, text.value("jshim_daemon_up", with(ours, "namespace", namespace)),
                    "the gRPC daemon is up:\n" + r.body() + "\nexporter log:\n" + Files.readString(exporterLog));
            assertEquals(1, text.value("jshim_info", with(with(ours, "namespace", namespace), "version",
                    io.jshim.shim.cli.Main.VERSION)),
                    "its own series, labelled with its pid:\n" + r.body());
            assertFalse(text.find("jshim_event_subscribers", ours).isEmpty(), r.body());
            double seconds = text.value("jshim_daemon_scrape_duration_seconds", with(ours, "namespace", namespace));
            System.out.printf("first gRPC scrape of the daemon (the exporter's cold gRPC client): %.3f s%n", seconds);
            r = get(port);
            System.out.printf("second: %.3f s%n", PromExposition.parse(r.body()).value(
                    "jshim_daemon_scrape_duration_seconds", with(ours, "namespace", namespace)));

            // killed: no file removal of its own, so the next scrape finds it gone and drops its registration
            Posix.kill(pid, Posix.SIGKILL);
            daemon.onExit().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
            r = get(port);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(PromExposition.parse(r.body()).find("jshim_daemon_up", ours).isEmpty(), r.body());
            assertFalse(Files.exists(registration), "the exporter removed the dead daemon's registration");
            String log = Files.readString(exporterLog);
            assertFalse(log.contains("Exception"), log);
            // grpc-java's SO_KEEPALIVE, which a unix socket lacks, is not warned about on every scrape
            assertFalse(log.contains("SO_KEEPALIVE"), log);
        } finally {
            for (Child c : new Child[] {exporter, daemon}) {
                if (c != null && !c.onExit().isDone()) {
                    c.kill(Posix.SIGKILL);
                    c.onExit().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
                }
            }
            if (daemon != null) {
                Files.deleteIfExists(REGISTRY.resolve(Integer.toString(daemon.pid())));
            }
            PrivateContainerd.deleteRuncRoot(namespace);
            receiver.close();
        }
    }

    private static Map<String, String> with(Map<String, String> labels, String name, String value) {
        Map<String, String> m = new HashMap<>(labels);
        m.put(name, value);
        return m;
    }

    private static WatchService watch(Path dir) throws Exception {
        WatchService w = FileSystems.getDefault().newWatchService();
        dir.register(w, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        return w;
    }

    interface Check {
        boolean done() throws Exception;
    }

    /** Waits (bounded) for {@code check}, looking again at each change in the watched directory. */
    private static void await(WatchService w, Check check, Child process, String what, Path log) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (!check.done()) {
            if (process.onExit().isDone() || System.nanoTime() > deadline) {
                throw new AssertionError("never: " + what + (process.onExit().isDone() ? " (the process exited)" : "")
                        + "\n" + Files.readString(log));
            }
            var key = w.poll(1, TimeUnit.SECONDS); // a change, or a second: then the exit and the bound are checked
            if (key != null) {
                key.pollEvents();
                key.reset();
            }
        }
    }

    private static HttpResponse<String> get(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(LIMIT)
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Child spawn(Path log, SpawnSpec spec) throws Exception {
        int fd = Posix.open(log.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC, 0644);
        try {
            return Reaper.get().spawn(spec.withFd(1, fd).withFd(2, fd).withNewSession().withKillOnParentDeath());
        } finally {
            Posix.close(fd);
        }
    }
}
