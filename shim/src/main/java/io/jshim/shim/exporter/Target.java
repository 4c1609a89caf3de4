package io.jshim.shim.exporter;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** A registered daemon as its file under {@link DaemonRegistry#DIR} describes it. */
public record Target(int pid, long startTime, Path socket, String namespace, String containerdAddress,
        String protocol) {
    public static final String TTRPC = "ttrpc";
    public static final String GRPC = "grpc";

    /** The registration {@link DaemonRegistry#register} wrote; empty when a field is missing or malformed. */
    static Optional<Target> parse(String text) {
        Map<String, String> fields = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        try {
            String socket = fields.get("socket");
            String namespace = fields.get("namespace");
            String address = fields.get("containerd_address");
            if (socket == null || socket.isEmpty() || namespace == null || address == null) {
                return Optional.empty();
            }
            return Optional.of(new Target(Integer.parseInt(fields.get("pid")),
                    Long.parseLong(fields.get("start_time")), Path.of(socket), namespace, address,
                    fields.getOrDefault("protocol", TTRPC)));
        } catch (RuntimeException malformed) {
            return Optional.empty();
        }
    }
}
