package io.jshim.shim.exporter;

import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.jshim.shim.metrics.MetricsRpc;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads every daemon's metrics at once ({@code jshim.metrics.v1.Metrics/Get}, over ttrpc or gRPC as the daemon's
 * registration says), each on a virtual thread of its own, each within {@code timeout}: a daemon
 * that is stopped, stuck or killed half-way is reported down when its time is up; the scrape never waits longer.
 */
public record Scraper(Duration timeout) {
    /** What scraping one daemon gave. */
    public sealed interface Outcome permits Up, Down {}

    /** The daemon's exposition, parsed. */
    public record Up(List<TextFormat.Family> families) implements Outcome {}

    public record Down(String reason) implements Outcome {}

    public record Result(Target target, Outcome outcome, double seconds) {}

    public List<Result> scrapeAll(List<Target> targets) throws InterruptedException {
        long start = System.nanoTime();
        List<CompletableFuture<Result>> pending = new ArrayList<>(targets.size());
        for (Target t : targets) {
            CompletableFuture<Result> f = new CompletableFuture<>();
            Thread.ofVirtual().name("jshim-scrape-" + t.pid()).start(() -> f.complete(scrape(t)));
            pending.add(f);
        }
        // the daemons' own deadlines end each call; this bound is for what they cannot (a connect that hangs)
        long deadline = start + timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(100);
        List<Result> results = new ArrayList<>(targets.size());
        for (int i = 0; i < targets.size(); i++) {
            try {
                results.add(pending.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                results.add(new Result(targets.get(i), new Down("no answer within " + timeout.toMillis() + " ms"),
                        (System.nanoTime() - start) / 1e9));
            } catch (ExecutionException e) {
                results.add(new Result(targets.get(i), new Down(String.valueOf(e.getCause())),
                        (System.nanoTime() - start) / 1e9));
            }
        }
        return results;
    }

    private Result scrape(Target t) {
        long start = System.nanoTime();
        Outcome outcome = switch (t.protocol()) {
            case Target.TTRPC -> overTtrpc(t, start);
            case Target.GRPC -> overGrpc(t, start);
            default -> new Down("protocol " + t.protocol() + " unknown to this exporter");
        };
        return new Result(t, outcome, (System.nanoTime() - start) / 1e9);
    }

    private Outcome overTtrpc(Target t, long start) {
        try (TtrpcClient client = TtrpcClient.connect(t.socket(), timeout)) {
            GetResponse r = client.call(MetricsRpc.SERVICE, MetricsRpc.GET, GetRequest.getDefaultInstance(),
                    GetResponse.parser(), left(start), null);
            return new Up(TextFormat.parse(r.getText()));
        } catch (IOException | TtrpcException | IllegalArgumentException e) {
            return new Down(e.getMessage());
        }
    }

    /**
     * A daemon serving gRPC ({@code JSHIM_PROTOCOL=grpc}) answers the same Get on its gRPC socket. The gRPC client is
     * named only here, so the exporter loads gRPC's classes (jshim-grpc.jar) when it first meets such a daemon.
     */
    private Outcome overGrpc(Target t, long start) {
        try {
            return new Up(TextFormat.parse(io.jshim.shim.grpc.GrpcMetricsClient.get(t.socket(), left(start))));
        } catch (io.jshim.shim.grpc.GrpcMetricsClient.Failure | IllegalArgumentException e) {
            return new Down(e.getMessage());
        } catch (LinkageError e) {
            return new Down("no gRPC client on the exporter's class path (jshim-grpc.jar): " + e);
        }
    }

    /** What is left of the daemon's {@code timeout} since {@code start}. */
    private Duration left(long start) {
        Duration left = timeout.minusNanos(System.nanoTime() - start);
        return left.isNegative() ? Duration.ZERO : left;
    }
}
