package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Child;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code containerd-shim-jshim-v2 exporter} with Debian's Prometheus server scraping it every second: after a
 * container ran and an exec ran, Prometheus' query API returns the daemons' series labelled by pid and containerd
 * address; while containerd is away the daemon's event backlog is above 0, and 0 once containerd is back; a
 * stopped daemon is reported down without holding up the scrape, and one SIGKILLed during a scrape leaves the
 * exporter serving (gone from the next scrape, its registration removed) while the other daemon stays up.
 * {@code promtool check metrics} accepts the exposition. Only this test's containerd's daemons are asserted on:
 * other tests' daemons on the node are scraped too.
 */
class ExporterEndToEndTest {
    static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    static final Duration LIMIT = Duration.ofSeconds(90);
    static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
    static final Pattern VALUE = Pattern.compile("\"value\":\\[[-0-9.e+]+,\"([^\"]*)\"\\]");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;
    private final List<Child> started = new ArrayList<>();

    @Test
    void prometheusSeesEveryDaemonThroughTheExporter() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        String grouped = "exp-a";
        String alone = "exp-b";
        int stopped = -1; // the daemon held stopped, until it is killed
        try (PrivateContainerd containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString())) {
            try {
                String address = containerd.socket().toString();
                int exporterPort = startExporter(bin);
                int prometheusPort = startPrometheus(exporterPort);
                Query q = new Query(prometheusPort, "containerd_address=\"" + address + "\"");

                containerd.ctrOk(CtrTasks.run(rootfs, grouped, "-d", "--annotation",
                        "io.containerd.runc.v2.group=exp-pod", "sleep", "1000"));
                containerd.ctrOk(CtrTasks.run(rootfs, alone, "-d", "sleep", "1000"));
                CommandResult exec = containerd.ctr("task", "exec", "--exec-id", "e1", grouped, "sh", "-c", "exit 0");
                assertEquals(0, exec.status(), exec.stderrText());
                int a = shimPid(containerd, grouped);
                int b = shimPid(containerd, alone);

                q.await("jshim_daemon_up{%s}", v -> v.size() == 2 && v.stream().allMatch(x -> x == 1));
                q.await("jshim_task_requests_total{%s,pid=\"" + a + "\",method=\"Exec\",code=\"OK\"}",
                        v -> v.size() == 1 && v.getFirst() >= 1);
                q.await("jshim_runc_calls_total{%s,pid=\"" + a + "\",subcommand=\"exec\"}",
                        v -> v.size() == 1 && v.getFirst() >= 1);
                q.await("jshim_containers{%s,pid=\"" + b + "\",state=\"running\"}", v -> v.equals(List.of(1.0)));
                q.await("jshim_daemon_scrape_duration_seconds{%s}", v -> v.size() == 2);
                String text = get(exporterPort, "/metrics").body();
                promtoolAccepts(text);

                // containerd away while an exec ends: its exit waits in the daemon's backlog until containerd is back
                Path flag = rootfs.resolve("exporter-go");
                containerd.ctrOk("task", "exec", "-d", "--exec-id", "x1", grouped, "sh", "-c",
                        "until [ -e /exporter-go ]; do sleep 0.05; done; exit 3");
                containerd.stop();
                Files.writeString(flag, "");
                q.await("jshim_events_backlog{%s,pid=\"" + a + "\"}", v -> v.size() == 1 && v.getFirst() > 0);
                q.await("jshim_containerd_reachable{%s,pid=\"" + a + "\"}", v -> v.equals(List.of(0.0)));
                containerd.launch();
                q.await("jshim_events_backlog{%s,pid=\"" + a + "\"}", v -> v.equals(List.of(0.0)));
                q.await("jshim_containerd_reachable{%s,pid=\"" + a + "\"}", v -> v.equals(List.of(1.0)));

                // a stopped daemon is down for each scrape, which still answers in time with the other one up
                Posix.kill(b, Posix.SIGSTOP);
                stopped = b;
                q.await("jshim_daemon_up{%s,pid=\"" + b + "\"}", v -> v.equals(List.of(0.0)));
                q.await("jshim_daemon_up{%s,pid=\"" + a + "\"}", v -> v.equals(List.of(1.0)));
                q.await("up{job=\"jshim\"}", v -> v.equals(List.of(1.0)));
                // SIGKILL while a scrape waits on it: one that connected to its socket after this request was sent
                // (a stopped daemon accepts nothing: each connection stays in /proc/net/unix under its path)
                Path socket = Path.of(Files.readString(containerd.state().resolve("io.containerd.runtime.v2.task")
                        .resolve(containerd.namespace()).resolve(alone).resolve("address")).trim()
                        .replaceFirst("^unix://", ""));
                int before = connections(socket);
                CompletableFuture<HttpResponse<String>> during = HTTP.sendAsync(request(exporterPort, "/metrics"),
                        HttpResponse.BodyHandlers.ofString());
                long deadline = System.nanoTime() + LIMIT.toNanos();
                while (connections(socket) <= before) {
                    assertTrue(System.nanoTime() < deadline, "no scrape connected to the stopped daemon");
                    Thread.sleep(5);
                }
                Posix.kill(b, Posix.SIGKILL);
                stopped = -1;
                HttpResponse<String> r = during.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                promtoolAccepts(r.body());
                assertTrue(!r.body().contains("jshim_daemon_up{pid=\"" + b + "\",containerd_address=\"" + address
                        + "\",namespace=\"" + containerd.namespace() + "\"} 1"), r.body());
                String upA = "jshim_daemon_up{pid=\"" + a + "\",containerd_address=\"" + address + "\",namespace=\""
                        + containerd.namespace() + "\"} 1\n";
                String after = awaitText(exporterPort, t -> !t.contains("pid=\"" + b + "\"") && t.contains(upA));
                promtoolAccepts(after);
                assertTrue(Pattern.compile("(?m)^jshim_exporter_stale_registrations_removed_total [1-9]")
                        .matcher(after).find(), after);
                q.await("jshim_daemon_up{%s,pid=\"" + a + "\"}", v -> v.equals(List.of(1.0)));
                q.await("jshim_daemon_up{%s,pid=\"" + b + "\"}", List::isEmpty);
                q.await("up{job=\"jshim\"}", v -> v.equals(List.of(1.0)));
            } finally {
                for (Child c : started.reversed()) {
                    stop(c);
                }
                if (stopped > 0) {
                    try {
                        Posix.kill(stopped, Posix.SIGKILL); // the test failed while it held this daemon stopped
                    } catch (java.io.IOException gone) {
                        // exited already
                    }
                }
                for (String id : List.of(grouped, alone)) {
                    // a task whose daemon was killed is gone already: containerd cleaned it up
                    if (containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.startsWith(id + " "))) {
                        containerd.ctr("task", "kill", "-s", "KILL", id);
                        CtrTasks.awaitStoppedAndDelete(containerd, id);
                    }
                    containerd.ctr("container", "rm", id);
                }
            }
        }
    }

    /** Starts the exporter on a port the kernel picks (each daemon's bound 800 ms); returns the port. */
    private int startExporter(Path bin) throws Exception {
        Path log = dir.resolve("exporter.log");
        Child exporter = spawn(log, bin.resolve("containerd-shim-jshim-v2").toString(), "exporter",
                "--listen", "127.0.0.1:0", "--timeout", "800ms");
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            Matcher m = LISTENING.matcher(Files.readString(log));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            assertTrue(!exporter.onExit().isDone() && System.nanoTime() < deadline, "exporter: " + Files.readString(log));
            Thread.sleep(20);
        }
    }

    /** Prometheus scraping the exporter every second, its data in the test's directory; returns its port. */
    private int startPrometheus(int exporterPort) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: jshim
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(exporterPort));
        Path log = dir.resolve("prometheus.log");
        Child prometheus = spawn(log, PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port);
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            try {
                if (get(port, "/-/ready").statusCode() == 200) {
                    return port;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            assertTrue(!prometheus.onExit().isDone() && System.nanoTime() < deadline,
                    "prometheus: " + Files.readString(log));
            Thread.sleep(100);
        }
    }

    /** Prometheus' instant queries; {@code %s} in a query stands for this test's containerd_address matcher. */
    private record Query(int port, String ours) {
        void await(String query, Predicate<List<Double>> wanted) throws Exception {
            String expr = query.contains("%s") ? query.formatted(ours) : query;
            long deadline = System.nanoTime() + LIMIT.toNanos();
            String body = "";
            while (System.nanoTime() < deadline) {
                HttpResponse<String> r = get(port, "/api/v1/query?query="
                        + URLEncoder.encode(expr, StandardCharsets.UTF_8));
                body = r.body();
                List<Double> values = new ArrayList<>();
                Matcher m = VALUE.matcher(body);
                while (m.find()) {
                    values.add(Double.parseDouble(m.group(1).replace("Inf", "Infinity")));
                }
                if (r.statusCode() == 200 && wanted.test(values)) {
                    return;
                }
                Thread.sleep(250);
            }
            throw new AssertionError("Prometheus never answered " + expr + " as expected; last: " + body);
        }
    }

    /** Scrapes the exporter until its text is as {@code wanted}. */
    private static String awaitText(int port, Predicate<String> wanted) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        String text;
        do {
            HttpResponse<String> r = get(port, "/metrics");
            assertEquals(200, r.statusCode(), r.body());
            text = r.body();
        } while (!wanted.test(text) && System.nanoTime() < deadline);
        assertTrue(wanted.test(text), text);
        return text;
    }

    private static HttpRequest request(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(LIMIT).build();
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(request(port, path), HttpResponse.BodyHandlers.ofString());
    }

    private static void promtoolAccepts(String text) throws Exception {
        CommandResult check = new Monitor(Reaper.get()).run(SpawnSpec.of(PROMTOOL.toString(), "check", "metrics"),
                text.getBytes(StandardCharsets.UTF_8), LIMIT);
        assertEquals(0, check.status(), "promtool check metrics: " + check.stdoutText() + check.stderrText()
                + "\n" + text);
    }

    /** Entries under {@code socket}'s path in /proc/net/unix: its listener and every connection made to it. */
    private static int connections(Path socket) throws Exception {
        String suffix = " " + socket;
        return (int) Files.readAllLines(Path.of("/proc/net/unix")).stream().filter(l -> l.endsWith(suffix)).count();
    }

    private static int shimPid(PrivateContainerd containerd, String id) throws Exception {
        return Integer.parseInt(Files.readString(containerd.state().resolve("io.containerd.runtime.v2.task")
                .resolve(containerd.namespace()).resolve(id).resolve("shim.pid")).trim());
    }

    private Child spawn(Path log, String... argv) throws Exception {
        int fd = Posix.open(log.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC, 0644);
        try {
            Child c = Reaper.get().spawn(SpawnSpec.of(argv).withFd(1, fd).withFd(2, fd).withNewSession()
                    .withKillOnParentDeath());
            started.add(c);
            return c;
        } finally {
            Posix.close(fd);
        }
    }

    private static void stop(Child c) throws Exception {
        if (c.onExit().isDone()) {
            return;
        }
        c.kill(Posix.SIGTERM);
        try {
            c.onExit().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            c.kill(Posix.SIGKILL);
            c.onExit().get(10, TimeUnit.SECONDS);
        }
    }
}
