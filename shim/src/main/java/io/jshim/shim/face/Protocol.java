package io.jshim.shim.face;

import java.util.Locale;

/**
 * What the shim's socket speaks to containerd. ttrpc is the default and the only one containerd 1.x understands,
 * and the only one containerd 2.0-2.3 can keep a connection on; grpc (version 3) is for other clients of the Task
 * API and serves the event stream for subscribers (containerd 2.x dials it, then drops the connection: see
 * {@link StartReply}). Chosen by the environment variable {@code JSHIM_PROTOCOL}, which {@code start} passes on to
 * the daemon.
 */
public enum Protocol {
    TTRPC("ttrpc"),
    GRPC("grpc");

    public static final String ENV = "JSHIM_PROTOCOL";
    /** 2 makes start answer containerd 2.3+ version 2 over ttrpc (every container then runs start); 3 is the default. */
    public static final String TTRPC_VERSION_ENV = "JSHIM_TTRPC_VERSION";

    private final String wireName;

    Protocol(String wireName) {
        this.wireName = wireName;
    }

    /**
     * The shim API version announced in a BootstrapResult (containerd 2.3+): 3 (task.v3) by default, which also
     * lets containerd send a pod's later containers straight to the pod's socket; ttrpc may be held at 2.
     */
    public int version() {
        return this == TTRPC ? ttrpcVersion(System.getenv(TTRPC_VERSION_ENV)) : 3;
    }

    public static int ttrpcVersion(String value) {
        if (value == null || value.isBlank()) {
            return 3;
        }
        return switch (value.trim()) {
            case "2" -> 2;
            case "3" -> 3;
            default -> throw new IllegalArgumentException(TTRPC_VERSION_ENV + "=" + value + ": expected 2 or 3");
        };
    }

    /** The name containerd expects in the start reply's {@code protocol}. */
    public String wireName() {
        return wireName;
    }

    public static Protocol fromEnvironment() {
        Protocol p = parse(System.getenv(ENV));
        p.version(); // a bad JSHIM_TTRPC_VERSION fails as early as a bad JSHIM_PROTOCOL
        return p;
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
