package io.jshim.shim.exporter;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exporter's HTTP side (the JDK's server): {@code GET /metrics} discovers the daemons, scrapes them and answers
 * the merged exposition; {@code /} points there; anything else is 404. Each request is served on a virtual thread
 * and scrapes afresh (Prometheus' own interval sets the pace).
 */
public final class ExporterHttp {
    private static final Logger log = LoggerFactory.getLogger(ExporterHttp.class);
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final Discovery discovery;
    private final Scraper scraper;
    private final AtomicLong staleRemoved = new AtomicLong();
    private final AtomicLong scrapeFailures = new AtomicLong();
    /** The daemons (by pid) the last scrape found down: each is logged when it goes down and when it is back. */
    private final java.util.Set<Integer> down = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private HttpServer server;

    public ExporterHttp(Discovery discovery, Scraper scraper) {
        this.discovery = discovery;
        this.scraper = scraper;
    }

    /** Listens on {@code address}; returns the address bound (its port chosen by the kernel when 0). */
    public InetSocketAddress start(InetSocketAddress address) throws IOException {
        server = HttpServer.create(address, 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
        return server.getAddress();
    }

    public void stop() {
        server.stop(0);
    }

    /** One scrape of every live daemon, merged. */
    public String metrics() throws IOException, InterruptedException {
        Discovery.Found found = discovery.discover();
        staleRemoved.addAndGet(found.removed());
        List<Scraper.Result> results = scraper.scrapeAll(found.targets());
        for (Scraper.Result r : results) {
            Target t = r.target();
            if (r.outcome() instanceof Scraper.Down d) {
                scrapeFailures.incrementAndGet();
                if (down.add(t.pid())) {
                    log.warn("daemon pid {} (socket {}, namespace {}) is down: {}", t.pid(), t.socket(),
                            t.namespace(), d.reason());
                } else {
                    log.debug("daemon pid {} still down: {}", t.pid(), d.reason());
                }
            } else if (down.remove(t.pid())) {
                log.info("daemon pid {} (socket {}) answers again", t.pid(), t.socket());
            }
        }
        down.retainAll(found.targets().stream().map(Target::pid).toList()); // the dead are forgotten
        return Merge.text(results, new Merge.Totals(staleRemoved.get(), scrapeFailures.get()));
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (!path.equals("/metrics") && !path.equals("/")) {
                reply(exchange, 404, "text/plain; charset=utf-8", "not found: try /metrics\n");
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
            } else if (path.equals("/")) {
                reply(exchange, 200, "text/html; charset=utf-8", "<html><head><title>jshim exporter</title></head>"
                        + "<body><h1>jshim exporter</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n");
            } else {
                String text;
                try {
                    text = metrics();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    reply(exchange, 503, "text/plain; charset=utf-8", "interrupted\n");
                    return;
                } catch (IOException | RuntimeException e) {
                    log.warn("scrape failed: {}", e.toString());
                    reply(exchange, 500, "text/plain; charset=utf-8", "scrape failed: " + e.getMessage() + "\n");
                    return;
                }
                reply(exchange, 200, CONTENT_TYPE, text);
            }
        }
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length == 0 ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
