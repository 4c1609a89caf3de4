package io.jshim.shim.cli;

import com.google.gson.JsonObject;
import io.jshim.shim.task.Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

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

    /** The grouping id: the group annotation, else the CRI sandbox id, else the container id. */
    public static String group(Path bundle, String containerId) {
        JsonObject a = Bundle.annotations(bundle);
        for (String key : new String[] {GROUP_ANNOTATION, SANDBOX_ANNOTATION}) {
            if (a.has(key) && !a.get(key).getAsString().isEmpty()) {
                return a.get(key).getAsString();
            }
        }
        return containerId;
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
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
