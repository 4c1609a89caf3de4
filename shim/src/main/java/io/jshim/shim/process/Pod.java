package io.jshim.shim.process;

/**
 * The Kubernetes pod a container belongs to, from the CRI annotations of its config.json
 * ({@code io.kubernetes.cri.sandbox-name}, {@code io.kubernetes.cri.sandbox-namespace}); empty strings outside CRI.
 */
public record Pod(String name, String namespace) {
    public static final String NAME_ANNOTATION = "io.kubernetes.cri.sandbox-name";
    public static final String NAMESPACE_ANNOTATION = "io.kubernetes.cri.sandbox-namespace";
    public static final Pod NONE = new Pod("", "");
}
