package io.jshim.shim.face;

import java.util.Locale;

/**
 * What the shim's socket speaks to containerd. ttrpc (version 2) is the default and the only one containerd 1.6
 * and 1.7 understand; grpc (version 3) is for containerd 2.x and also serves the event stream for subscribers.
 * Chosen by the environment variable {@code JSHIM_PROTOCOL}, which {@code start} passes on to the daemon.
 */
public enum Protocol {
    TTRPC(2, "ttrpc"),
    GRPC(3, "grpc");

    public static final String ENV = "JSHIM_PROTOCOL";

    private final int version;
    private final String wireName;

    Protocol(int version, String wireName) {
        this.version = version;
        this.wireName = wireName;
    }

    /** The shim API version announced to containerd 2.x (2: task.v2 over ttrpc; 3: task.v3). */
    public int version() {
        return version;
    }

    /** The name containerd expects in the start reply's {@code protocol}. */
    public String wireName() {
        return wireName;
    }

    public static Protocol fromEnvironment() {
        return parse(System.getenv(ENV));
    }

    /** ttrpc for null or empty; an unknown name is an error rather than a silent default. */
    public static Protocol parse(String value) {
        if (value == null || value.isBlank()) {
            return TTRPC;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "ttrpc" -> TTRPC;
            case "grpc" -> GRPC;
            default -> throw new IllegalArgumentException(ENV + "=" + value + ": expected ttrpc or grpc");
        };
    }
}
