package io.jshim.shim.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MergeTest {
    static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    static final String DAEMON_1 = """
            # HELP jshim_containers Containers this daemon holds.
            # TYPE jshim_containers gauge
            jshim_containers{namespace="default"} 2
            # HELP jshim_runc_call_duration_seconds runc call latency, by subcommand.
            # TYPE jshim_runc_call_duration_seconds histogram
            jshim_runc_call_duration_seconds_bucket{namespace="default",subcommand="create",le="0.1"} 1
            jshim_runc_call_duration_seconds_bucket{namespace="default",subcommand="create",le="+Inf"} 2
            jshim_runc_call_duration_seconds_sum{namespace="default",subcommand="create"} 0.5
            jshim_runc_call_duration_seconds_count{namespace="default",subcommand="create"} 2
            # HELP jshim_events_published_total Events published, by topic.
            # TYPE jshim_events_published_total counter
            jshim_events_published_total{namespace="default",topic="/tasks/exit",pid="7"} 4
            """;
    static final String DAEMON_2 = """
            # HELP jshim_events_published_total Events published, by topic.
            # TYPE jshim_events_published_total counter
            jshim_events_published_total{namespace="k8s.io",topic="/tasks/start"} 1
            # HELP jshim_containers Containers this daemon holds.
            # TYPE jshim_containers gauge
            jshim_containers{namespace="k8s.io"} 1
            # HELP jshim_only_here A family the other daemon lacks.
            # TYPE jshim_only_here gauge
            jshim_only_here{namespace="k8s.io"} 9
            """;

    static Target target(int pid, String address, String ns) {
        return new Target(pid, 1, Path.of("/run/s/" + pid), ns, address, Target.TTRPC);
    }

    static String merged() {
        return Merge.text(List.of(
                new Scraper.Result(target(10, "/run/containerd/containerd.sock", "default"),
                        new Scraper.Up(TextFormat.parse(DAEMON_1)), 0.01),
                new Scraper.Result(target(20, "/odd \"path\"\\x", "k8s.io"),
                        new Scraper.Up(TextFormat.parse(DAEMON_2)), 0.02),
                new Scraper.Result(target(30, "/run/containerd/containerd.sock", "default"),
                        new Scraper.Down("no answer within 2000 ms"), 2.0)), new Merge.Totals(1, 3));
    }

    @Test
    void eachFamilyOnceWithEveryDaemonsSamplesLabelledByDaemon() {
        String text = merged();
        List<TextFormat.Family> families = TextFormat.parse(text);
        assertEquals(families.size(), families.stream().map(TextFormat.Family::name).distinct().count(), text);
        TextFormat.Family containers = families.stream().filter(f -> f.name().equals("jshim_containers"))
                .findFirst().orElseThrow();
        assertEquals(2, containers.samples().size(), text);
        assertTrue(text.contains("jshim_containers{pid=\"20\",containerd_address=\"/odd \\\"path\\\"\\\\x\","
                + "namespace=\"k8s.io\"} 1\n"), text);
        assertTrue(text.contains("jshim_events_published_total{pid=\"10\",containerd_address="
                + "\"/run/containerd/containerd.sock\",namespace=\"default\",topic=\"/tasks/exit\",exported_pid=\"7\"} 4"),
                "a daemon's own pid label is kept as exported_pid:\n" + text);
        assertTrue(text.contains("jshim_only_here{pid=\"20\""), text);
        assertTrue(text.contains("jshim_runc_call_duration_seconds_bucket{pid=\"10\",containerd_address="
                + "\"/run/containerd/containerd.sock\",namespace=\"default\",subcommand=\"create\",le=\"+Inf\"} 2"), text);
        assertTrue(text.contains("jshim_daemon_up{pid=\"30\",containerd_address=\"/run/containerd/containerd.sock\","
                + "namespace=\"default\"} 0"), text);
        assertTrue(text.contains("jshim_daemon_up{pid=\"10\","), text);
        assertTrue(text.contains("jshim_daemon_scrape_duration_seconds{pid=\"30\""), text);
        assertTrue(text.contains("jshim_exporter_daemons 3\n"), text);
        assertTrue(text.contains("jshim_exporter_stale_registrations_removed_total 1\n"), text);
        assertEquals(List.of("jshim_daemon_up", "jshim_daemon_scrape_duration_seconds"), text.lines()
                .filter(l -> l.contains("pid=\"30\"")).map(l -> l.substring(0, l.indexOf('{'))).toList(),
                "a down daemon has no samples but its up and duration");
    }

    @Test
    void aFamilyOfAnotherTypeInOneDaemonIsLeftOutForIt() {
        String text = Merge.text(List.of(
                new Scraper.Result(target(1, "a", "n"), new Scraper.Up(TextFormat.parse("# TYPE x gauge\nx 1\n")), 0),
                new Scraper.Result(target(2, "a", "n"), new Scraper.Up(TextFormat.parse("# TYPE x counter\nx 2\n")),
                        0)), new Merge.Totals(0, 0));
        assertTrue(text.contains("# TYPE x gauge\nx{pid=\"1\",containerd_address=\"a\"} 1\n#"), text);
        assertFalse(text.contains("x{pid=\"2\""), text);
    }

    @Test
    void promtoolAcceptsTheMergedExposition() throws Exception {
        if (!Files.isExecutable(PROMTOOL)) {
            return; // scripts/install-deps.sh installs it; the end-to-end test needs it
        }
        String text = merged();
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(PROMTOOL.toString(), "check", "metrics"),
                text.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stdoutText() + r.stderrText() + "\n" + text);
    }
}
