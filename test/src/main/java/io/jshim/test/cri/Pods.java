package io.jshim.test.cri;

import io.jshim.test.cri.v1.ContainerConfig;
import io.jshim.test.cri.v1.ContainerMetadata;
import io.jshim.test.cri.v1.ImageSpec;
import io.jshim.test.cri.v1.KeyValue;
import io.jshim.test.cri.v1.LinuxPodSandboxConfig;
import io.jshim.test.cri.v1.LinuxSandboxSecurityContext;
import io.jshim.test.cri.v1.NamespaceMode;
import io.jshim.test.cri.v1.NamespaceOption;
import io.jshim.test.cri.v1.PodSandboxConfig;
import io.jshim.test.cri.v1.PodSandboxMetadata;
import java.util.List;
import java.util.UUID;

/** Pod and container configs as the kubelet would send them for a simple pod, reduced to what matters here. */
final class Pods {
    private Pods() {}

    /** A pod on the node's network (no CNI needed), its pid and ipc namespaces the pod's own. */
    static PodSandboxConfig hostNetwork(String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("jshim-test")
                        .setUid(UUID.randomUUID().toString()))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(LinuxSandboxSecurityContext
                        .newBuilder().setNamespaceOptions(NamespaceOption.newBuilder()
                                .setNetwork(NamespaceMode.NODE).setPid(NamespaceMode.POD)
                                .setIpc(NamespaceMode.POD))))
                .build();
    }

    /** A container of {@code image} running {@code argv}, PATH set as the image sets it. */
    static ContainerConfig container(String name, ImageSpec image, String... argv) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(image)
                .addAllCommand(List.of(argv))
                .addEnvs(KeyValue.newBuilder().setKey("PATH").setValue("/bin"))
                .build();
    }
}
