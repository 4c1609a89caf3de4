package io.jshim.shim.exporter;

import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.jshim.shim.metrics.MetricsRpc;
import io.jshim.ttrpc.EventLoops;
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
 * Reads every daemon's metrics at once, each on a virtual thread of its own, each within {@code timeout}: a daemon
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
        Outcome outcome;
        try (TtrpcClient client = TtrpcClient.connect(t.socket(), EventLoops.shared(), timeout)) {
            Duration left = timeout.minusNanos(System.nanoTime() - start);
            GetResponse r = client.call(MetricsRpc.SERVICE, MetricsRpc.GET, GetRequest.getDefaultInstance(),
                    GetResponse.parser(), left.isNegative() ? Duration.ZERO : left, null);
            outcome = new Up(TextFormat.parse(r.getText()));
        } catch (IOException | TtrpcException | IllegalArgumentException e) {
            outcome = new Down(e.getMessage());
        }
        return new Result(t, outcome, (System.nanoTime() - start) / 1e9);
    }
}
