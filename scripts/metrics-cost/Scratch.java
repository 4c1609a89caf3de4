package scratch; // scripts/metrics-cost/run.sh: not part of the build

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Cost of one exposition of a comparable set of families (Task API counters by method and code, a latency histogram
 * by method, runc counters and histograms by subcommand, a few gauges) with jshim's PromText, the Prometheus Java
 * client 1.10.0, and Micrometer 1.17.2 (meters only: its Prometheus text needs micrometer-registry-prometheus, which
 * is built on the Prometheus client). Run once per mode in a fresh JVM.
 */
public final class Scratch {
    static final List<String> METHODS = List.of("State", "Create", "Start", "Delete", "Pids", "Pause", "Resume",
            "Checkpoint", "Kill", "Exec", "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect", "Shutdown");
    static final List<String> SUBS = List.of("create", "restore", "start", "exec", "kill", "delete", "pause",
            "resume", "update", "ps", "checkpoint");

    public static void main(String[] args) throws Exception {
        long rss0 = rss();
        Runtime rt = Runtime.getRuntime();
        long heap0 = rt.totalMemory() - rt.freeMemory();
        long t0 = System.nanoTime();
        String text = switch (args[0]) {
            case "ours" -> ours();
            case "prom" -> prom();
            case "micrometer" -> micrometer();
            case "none" -> "";
            case "gc" -> {
                StringBuilder b = new StringBuilder();
                for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
                    b.append(gc.getName()).append(' ').append(gc.getCollectionCount()).append(' ')
                            .append(gc.getCollectionTime()).append('\n');
                }
                yield b.toString();
            }
            default -> throw new IllegalArgumentException(args[0]);
        };
        long t1 = System.nanoTime();
        long heap1 = rt.totalMemory() - rt.freeMemory();
        long rss1 = rss();
        long jvmStart = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
        System.out.printf("%s: first exposition %.1f ms (%.0f ms since JVM start), %d bytes of text, heap +%d KiB,"
                        + " RSS +%d KiB%n", args[0], (t1 - t0) / 1e6, (double) (System.currentTimeMillis() - jvmStart),
                text.length(), (heap1 - heap0) / 1024, (rss1 - rss0) / 1024);
        if (args.length > 1) {
            Files.writeString(Path.of(args[1]), text);
        }
    }

    static String ours() {
        io.jshim.shim.CallTally api = new io.jshim.shim.CallTally(METHODS, 17);
        io.jshim.shim.CallTally runc = new io.jshim.shim.CallTally(SUBS, 2);
        for (int m = 0; m < METHODS.size(); m++) {
            api.record(m, 0, 1_000_000L * m);
            api.record(m, 5, 2_000_000L);
        }
        for (int s = 0; s < SUBS.size(); s++) {
            runc.record(s, 0, 30_000_000L);
        }
        io.jshim.shim.metrics.PromText p = new io.jshim.shim.metrics.PromText("namespace", "k8s.io");
        p.family("jshim_task_requests_total", "counter", "Task API requests.");
        for (int m = 0; m < METHODS.size(); m++) {
            p.sample("jshim_task_requests_total", api.count(m, 0), "method", METHODS.get(m), "code", "OK");
            p.sample("jshim_task_requests_total", api.count(m, 5), "method", METHODS.get(m), "code", "NOT_FOUND");
        }
        p.family("jshim_task_request_duration_seconds", "histogram", "Task API latency.");
        for (int m = 0; m < METHODS.size(); m++) {
            p.histogram("jshim_task_request_duration_seconds", api, m, "method", METHODS.get(m));
        }
        p.family("jshim_runc_calls_total", "counter", "runc calls.");
        for (int s = 0; s < SUBS.size(); s++) {
            p.sample("jshim_runc_calls_total", runc.count(s, 0), "subcommand", SUBS.get(s));
        }
        p.family("jshim_runc_call_duration_seconds", "histogram", "runc latency.");
        for (int s = 0; s < SUBS.size(); s++) {
            p.histogram("jshim_runc_call_duration_seconds", runc, s, "subcommand", SUBS.get(s));
        }
        for (int g = 0; g < 8; g++) {
            p.family("jshim_gauge_" + g, "gauge", "A gauge.").sample("jshim_gauge_" + g, g);
        }
        return p.text();
    }

    static final double[] BUCKETS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120};

    static String prom() throws Exception {
        var registry = new io.prometheus.metrics.model.registry.PrometheusRegistry();
        var requests = io.prometheus.metrics.core.metrics.Counter.builder().name("jshim_task_requests_total")
                .help("Task API requests.").labelNames("namespace", "method", "code").register(registry);
        var latency = io.prometheus.metrics.core.metrics.Histogram.builder()
                .name("jshim_task_request_duration_seconds").help("Task API latency.").classicUpperBounds(BUCKETS)
                .classicOnly().labelNames("namespace", "method").register(registry);
        var runcCalls = io.prometheus.metrics.core.metrics.Counter.builder().name("jshim_runc_calls_total")
                .help("runc calls.").labelNames("namespace", "subcommand").register(registry);
        var runcLatency = io.prometheus.metrics.core.metrics.Histogram.builder()
                .name("jshim_runc_call_duration_seconds").help("runc latency.").classicUpperBounds(BUCKETS)
                .classicOnly().labelNames("namespace", "subcommand").register(registry);
        for (int m = 0; m < METHODS.size(); m++) {
            requests.labelValues("k8s.io", METHODS.get(m), "OK").inc();
            requests.labelValues("k8s.io", METHODS.get(m), "NOT_FOUND").inc();
            latency.labelValues("k8s.io", METHODS.get(m)).observe(0.001 * m);
            latency.labelValues("k8s.io", METHODS.get(m)).observe(0.002);
        }
        for (int s = 0; s < SUBS.size(); s++) {
            runcCalls.labelValues("k8s.io", SUBS.get(s)).inc();
            runcLatency.labelValues("k8s.io", SUBS.get(s)).observe(0.03);
        }
        for (int g = 0; g < 8; g++) {
            io.prometheus.metrics.core.metrics.Gauge.builder().name("jshim_gauge_" + g).help("A gauge.")
                    .labelNames("namespace").register(registry).labelValues("k8s.io").set(g);
        }
        var out = new java.io.ByteArrayOutputStream();
        new io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter(false).write(out, registry.scrape());
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    static String micrometer() {
        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        for (int m = 0; m < METHODS.size(); m++) {
            registry.counter("jshim.task.requests", "namespace", "k8s.io", "method", METHODS.get(m), "code", "OK")
                    .increment();
            registry.counter("jshim.task.requests", "namespace", "k8s.io", "method", METHODS.get(m), "code",
                    "NOT_FOUND").increment();
            io.micrometer.core.instrument.Timer.builder("jshim.task.request.duration").tags("namespace", "k8s.io",
                    "method", METHODS.get(m)).serviceLevelObjectives(java.time.Duration.ofMillis(1),
                    java.time.Duration.ofMillis(5), java.time.Duration.ofSeconds(1)).register(registry)
                    .record(java.time.Duration.ofMillis(m));
        }
        for (int s = 0; s < SUBS.size(); s++) {
            registry.counter("jshim.runc.calls", "namespace", "k8s.io", "subcommand", SUBS.get(s)).increment();
            io.micrometer.core.instrument.Timer.builder("jshim.runc.call.duration").tags("namespace", "k8s.io",
                    "subcommand", SUBS.get(s)).serviceLevelObjectives(java.time.Duration.ofMillis(1),
                    java.time.Duration.ofSeconds(1)).register(registry).record(java.time.Duration.ofMillis(30));
        }
        for (int g = 0; g < 8; g++) {
            registry.gauge("jshim.gauge." + g, g);
        }
        return registry.getMetersAsString(); // no Prometheus text without micrometer-registry-prometheus
    }

    static long rss() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
            }
        }
        return -1;
    }
}
