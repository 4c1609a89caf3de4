package io.jshim.shim.metrics;

import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.jshim.ttrpc.TtrpcClient;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code containerd-shim-jshim-v2 metrics --address unix:///run/containerd/s/<hash>}: prints the daemon's metrics
 * (Prometheus text format) read from its ttrpc socket.
 */
public final class MetricsCommand {
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private MetricsCommand() {}

    public static int run(List<String> args, String defaultAddress, PrintStream out) throws Exception {
        String address = defaultAddress;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i).replaceFirst("^--?", "");
            if (a.equals("address") && i + 1 < args.size()) {
                address = args.get(++i);
            } else if (a.startsWith("address=")) {
                address = a.substring("address=".length());
            } else {
                throw new IllegalArgumentException("metrics: unknown argument " + args.get(i)
                        + " (usage: metrics --address unix:///run/containerd/s/<hash>)");
            }
        }
        if (address == null || address.isEmpty()) {
            throw new IllegalArgumentException("metrics: --address <shim socket> is required");
        }
        Path socket = Path.of(address.startsWith("unix://") ? address.substring("unix://".length()) : address);
        try (TtrpcClient client = TtrpcClient.connect(socket)) {
            GetResponse r = client.call(MetricsRpc.SERVICE, MetricsRpc.GET, GetRequest.getDefaultInstance(),
                    GetResponse.parser(), TIMEOUT, null);
            out.print(r.getText());
        }
        return 0;
    }
}
