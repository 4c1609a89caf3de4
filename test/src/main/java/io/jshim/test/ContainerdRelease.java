package io.jshim.test;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which containerd a {@link PrivateContainerd} runs: its binaries and the config version it is given. The system's
 * (Debian's 1.6, config version 2, from PATH), or a containerd 2.x that {@code make test-containerd2} unpacked into
 * the build directory and names by the system property {@value #PROPERTY} (config version 3, its native form).
 */
public record ContainerdRelease(String containerd, String ctr, int configVersion) {
    public static final String PROPERTY = "jshim.containerd2";
    public static final ContainerdRelease SYSTEM = new ContainerdRelease("containerd", "ctr", 2);

    /**
     * The containerd 2.x of this run. Fails (never skips) without one: the tests that ask for it are run only by
     * {@code make test-containerd2}, which unpacks it first.
     */
    public static ContainerdRelease containerd2() {
        String dir = System.getProperty(PROPERTY, "");
        if (dir.isEmpty()) {
            throw new IllegalStateException("no containerd 2.x: -D" + PROPERTY + "=<dir with bin/containerd> is not"
                    + " set (make test-containerd2 unpacks one and sets it)");
        }
        Path bin = Path.of(dir).resolve("bin");
        for (String b : new String[] {"containerd", "ctr", "containerd-shim-runc-v2"}) {
            if (!Files.isExecutable(bin.resolve(b))) {
                throw new IllegalStateException("no containerd 2.x: " + bin.resolve(b) + " is missing");
            }
        }
        return new ContainerdRelease(bin.resolve("containerd").toString(), bin.resolve("ctr").toString(), 3);
    }

    /** The directory of this release's binaries (with the runc shim of the same release), or null for PATH's. */
    public Path binDir() {
        return containerd.contains("/") ? Path.of(containerd).getParent() : null;
    }

    /** The reference runc shim of this release. */
    public String runcShim() {
        Path bin = binDir();
        return bin == null ? "containerd-shim-runc-v2" : bin.resolve("containerd-shim-runc-v2").toString();
    }

    /**
     * A private config: own root, state and sockets, debug log, CRI off (its plugins in version 3 are
     * {@code io.containerd.cri.v1.runtime} and {@code io.containerd.cri.v1.images}; the gRPC CRI service keeps
     * its 1.x name).
     */
    public String config(Path root, Path state, Path socket) {
        String disabled = configVersion >= 3
                ? "\"io.containerd.grpc.v1.cri\", \"io.containerd.cri.v1.runtime\", \"io.containerd.cri.v1.images\""
                : "\"io.containerd.grpc.v1.cri\"";
        return """
                version = %d
                root = "%s"
                state = "%s"
                disabled_plugins = [%s]
                [grpc]
                  address = "%s"
                [ttrpc]
                  address = "%s.ttrpc"
                [debug]
                  level = "debug"
                """.formatted(configVersion, root, state, disabled, socket, socket);
    }

    /** ctr's stderr without the deprecation warning containerd 2.2+ prints on cgroup v1 hosts. */
    public static String stderr(io.jshim.reaper.CommandResult r) {
        return r.stderrText().lines().filter(l -> !l.contains("level=warning msg=\"DEPRECATION"))
                .map(l -> l + "\n").reduce("", String::concat);
    }
}
