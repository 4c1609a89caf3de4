package io.jshim.shim.cli;

import io.jshim.proto.json.Json;
import io.jshim.shim.task.Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a shim listens: {@code unix:///run/containerd/s/<sha256(<containerd address>/<namespace>/<group>)>}, as the
 * reference computes it, so that containers of one group (a pod) find the same shim.
 */
public final class ShimAddress {
    public static final Path SOCKET_DIR = Path.of("/run/containerd/s");
    /** The reference's grouping annotation, and CRI's sandbox id (one shim per pod). */
    static final String GROUP_ANNOTATION = "io.containerd.runc.v2.group";
    static final String SANDBOX_ANNOTATION = "io.kubernetes.cri.sandbox-id";

    private ShimAddress() {}

    /**
     * The environment variable (in containerd's environment, which shims inherit) that opts into a wide group: every
     * container of a namespace without a group annotation of its own, CRI pods included, shares the shim
     * {@code jshim-<value>}. Denser, but one JVM then holds many pods (README, "Cost and grouping").
     */
    public static final String WIDE_GROUP_ENV = "JSHIM_GROUP";

    /**
     * The grouping id: the group annotation, else the wide group of {@link #WIDE_GROUP_ENV}, else the CRI sandbox id
     * (one shim per pod), else the container id. The launcher script computes the same in shell for its fast path.
     */
    public static String group(Path bundle, String containerId) {
        return group(Bundle.annotations(bundle), containerId, System.getenv(WIDE_GROUP_ENV));
    }

    public static String group(Map<String, Object> annotations, String containerId, String wideGroup) {
        String explicit = annotation(annotations, GROUP_ANNOTATION);
        if (explicit != null) {
            return explicit;
        }
        if (wideGroup != null && !wideGroup.isEmpty()) {
            return "jshim-" + wideGroup;
        }
        String sandbox = annotation(annotations, SANDBOX_ANNOTATION);
        return sandbox != null ? sandbox : containerId;
    }

    private static String annotation(Map<String, Object> a, String key) {
        String value = Json.string(a.get(key));
        return value.isEmpty() ? null : value;
    }

    public static String address(Path socketDir, String containerdAddress, String namespace, String group) {
        // filepath.Join semantics: one separator between parts, no trailing slash
        String joined = Path.of(containerdAddress, namespace, group).normalize().toString();
        return "unix://" + socketDir.resolve(sha256(joined));
    }

    public static Path socketPath(String address) {
        return Path.of(address.startsWith("unix://") ? address.substring("unix://".length()) : address);
    }

    static String sha256(String s) {
        return Sha256.hex(s.getBytes(StandardCharsets.UTF_8));
    }
}
