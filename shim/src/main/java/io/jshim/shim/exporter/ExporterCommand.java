package io.jshim.shim.exporter;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code containerd-shim-jshim-v2 exporter --listen 127.0.0.1:9465 [--timeout 2s]}: serves the metrics of every
 * live jshim daemon on the node over HTTP for Prometheus, until SIGTERM or SIGINT.
 */
public final class ExporterCommand {
    private static final Logger log = LoggerFactory.getLogger(ExporterCommand.class);
    static final String USAGE = "usage: exporter [--listen HOST:PORT] [--timeout DURATION]"
            + " (defaults 127.0.0.1:9465 and 2s; a duration as 500ms or 2s)";
    static final String DEFAULT_LISTEN = "127.0.0.1:9465";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    /** The command line: where to listen, and each daemon's bound. */
    record Options(InetSocketAddress listen, Duration timeout) {}

    private ExporterCommand() {}

    public static int run(List<String> args, PrintStream out) throws Exception {
        Options o = parse(args);
        ExporterHttp http = new ExporterHttp(new Discovery(DaemonRegistry.DIR), new Scraper(o.timeout()));
        InetSocketAddress bound = http.start(o.listen());
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        String where = "http://" + hostPort(bound) + "/metrics";
        log.info("jshim exporter serving {} (daemons registered in {}, {} ms per daemon)", where,
                DaemonRegistry.DIR, o.timeout().toMillis());
        out.println("listening on " + where);
        out.flush();
        stop.await();
        http.stop();
        return 0;
    }

    static Options parse(List<String> args) throws java.net.UnknownHostException {
        String listen = DEFAULT_LISTEN;
        Duration timeout = DEFAULT_TIMEOUT;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i).replaceFirst("^--?", "");
            String value;
            int eq = a.indexOf('=');
            if (eq >= 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            } else if (i + 1 < args.size() && (a.equals("listen") || a.equals("timeout"))) {
                value = args.get(++i);
            } else {
                throw new IllegalArgumentException("exporter: unknown or incomplete argument " + args.get(i)
                        + " (" + USAGE + ")");
            }
            switch (a) {
                case "listen" -> listen = value;
                case "timeout" -> timeout = duration(value);
                default -> throw new IllegalArgumentException("exporter: unknown argument " + args.get(i)
                        + " (" + USAGE + ")");
            }
        }
        return new Options(address(listen), timeout);
    }

    /** {@code HOST:PORT} or {@code [V6]:PORT}; the host is required (the exporter binds only where it is told). */
    static InetSocketAddress address(String listen) throws java.net.UnknownHostException {
        int colon = listen.lastIndexOf(':');
        String host = colon < 0 ? "" : listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (host.isEmpty() || port < 0 || port > 65535) {
            throw new IllegalArgumentException("exporter: --listen wants HOST:PORT, e.g. 127.0.0.1:9465, not "
                    + listen);
        }
        return new InetSocketAddress(InetAddress.getByName(host), port);
    }

    static Duration duration(String value) {
        try {
            Duration d = value.endsWith("ms") ? Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)))
                    : value.endsWith("s") ? Duration.ofMillis(Math.round(
                            Double.parseDouble(value.substring(0, value.length() - 1)) * 1000))
                    : Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
            if (d.toMillis() <= 0) {
                throw new IllegalArgumentException("exporter: --timeout must be positive, not " + value);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("exporter: --timeout wants a duration such as 500ms or 2s, not "
                    + value);
        }
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
