package io.jshim.test.cri;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.test.PrivateContainerd;
import io.jshim.test.cri.v1.ContainerConfig;
import io.jshim.test.cri.v1.ImageSpec;
import io.jshim.test.cri.v1.PodSandbox;
import io.jshim.test.cri.v1.PodSandboxConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private containerd (its own root, state and sockets: {@link PrivateContainerd}) with its CRI plugin on, as a
 * Kubernetes node runs it: runtime handlers {@code jshim} (io.containerd.jshim.v2) and {@code runc}
 * (io.containerd.runc.v2), the overlayfs snapshotter, and a pause and a busybox image built here and imported
 * into the {@code k8s.io} namespace, so no registry is needed. Pods use the node's network: no CNI.
 */
public final class CriContainerd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CriContainerd.class);
    public static final String JSHIM = "jshim";
    public static final String RUNC = "runc";
    /** containerd's CRI keeps its images and containers in this namespace. */
    public static final String NAMESPACE = "k8s.io";
    /** runc's state root for the namespace, both shims' default ({@code options.Root} is not set). */
    static final Path RUNC_ROOT = Path.of("/run/containerd/runc", NAMESPACE);

    private final PrivateContainerd containerd;
    private final CriClient client;
    private final CriImages images;

    private CriContainerd(PrivateContainerd containerd, CriClient client, CriImages images) {
        this.containerd = containerd;
        this.client = client;
        this.images = images;
    }

    /**
     * Builds the images in {@code dir/images}, starts containerd in {@code dir/cd} ({@code pathDirs} in front of its
     * PATH: where containerd-shim-jshim-v2 is) and imports the images.
     */
    public static CriContainerd start(Path dir, String... pathDirs) throws Exception {
        return start(dir, false, Map.of(), pathDirs);
    }

    /**
     * As {@link #start(Path, String...)}; {@code standby}: jshim keeps a warm standby for this containerd (the CRI
     * plugin's shim starts carry one environment, so each finds the standby the previous start booted);
     * {@code env} goes into containerd's environment and so its shims' (e.g. JSHIM_LAUNCH_LOG).
     */
    public static CriContainerd start(Path dir, boolean standby, Map<String, String> env, String... pathDirs)
            throws Exception {
        CriImages images = CriImages.build(dir.resolve("images"));
        Path cd = dir.resolve("cd");
        PrivateContainerd containerd = PrivateContainerd.startWithConfig(cd, config(cd, images.pause()), standby, env,
                pathDirs);
        try {
            CriContainerd c = new CriContainerd(containerd, CriClient.connect(PrivateContainerd.socketIn(cd),
                    Duration.ofSeconds(120)), images);
            for (Path archive : images.archives()) {
                c.ctrOk("images", "import", "--all-platforms", archive.toString());
            }
            return c;
        } catch (Exception | Error e) {
            containerd.close();
            throw e;
        }
    }

    /**
     * containerd 1.6's config (version 2). {@code restrict_oom_score_adj}: the pause container asks for -998, and a
     * root without CAP_SYS_RESOURCE cannot lower its score; containerd then caps the request at its own score. The
     * log level is {@code info}, or the system property {@code jshim.cri.log} ({@code debug}: containerd logs each
     * shim call, and passes {@code -debug} to the shims, whose daemons then log each request and their start-up).
     */
    static String config(Path dir, String pauseImage) {
        Path socket = PrivateContainerd.socketIn(dir);
        return """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                [grpc]
                  address = "%2$s"
                [ttrpc]
                  address = "%2$s.ttrpc"
                [debug]
                  level = "%4$s"
                [plugins."io.containerd.grpc.v1.cri"]
                  sandbox_image = "%3$s"
                  restrict_oom_score_adj = true
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "0"
                  [plugins."io.containerd.grpc.v1.cri".containerd]
                    snapshotter = "overlayfs"
                    default_runtime_name = "runc"
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                      runtime_type = "io.containerd.runc.v2"
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.jshim]
                      runtime_type = "io.containerd.jshim.v2"
                  [plugins."io.containerd.grpc.v1.cri".cni]
                    bin_dir = "%1$s/cni/bin"
                    conf_dir = "%1$s/cni/net.d"
                """.formatted(dir, socket, pauseImage, System.getProperty("jshim.cri.log", "info"));
    }

    public CriClient client() {
        return client;
    }

    public PrivateContainerd containerd() {
        return containerd;
    }

    /** The busybox image containers run. */
    public ImageSpec busybox() {
        return ImageSpec.newBuilder().setImage(images.busybox()).build();
    }

    /** The socket every shim of this containerd has on its command line ({@code -address}). */
    public Path socket() {
        return containerd.socket();
    }

    /** {@code ctr} in the k8s.io namespace of this containerd; its stdout. */
    public String ctrOk(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ctr", "--address", containerd.socket().toString(),
                "--namespace", NAMESPACE));
        argv.addAll(List.of(args));
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(argv.toArray(String[]::new)), null,
                Duration.ofSeconds(120));
        if (r.status() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " failed (" + r.status() + "): "
                    + r.stderrText() + r.stdoutText());
        }
        return r.stdoutText();
    }

    /** A pod on the node's network (no CNI), its pid and ipc namespaces its own. */
    public static PodSandboxConfig hostNetworkPod(String name) {
        return Pods.hostNetwork(name);
    }

    /** A container of the busybox image running {@code argv}. */
    public ContainerConfig container(String name, String... argv) {
        return Pods.container(name, busybox(), argv);
    }

    /**
     * Stops and removes every pod still there (a test that failed half-way), then containerd, then whatever shims
     * it left ({@link PrivateContainerd#close}).
     */
    @Override
    public void close() throws InterruptedException {
        try {
            for (PodSandbox pod : client.listPodSandboxes()) {
                try {
                    client.stopPodSandbox(pod.getId());
                    client.removePodSandbox(pod.getId());
                } catch (RuntimeException e) {
                    log.warn("pod {}: could not stop and remove it: {}", pod.getId(), e.toString());
                }
            }
        } catch (RuntimeException e) {
            log.warn("could not list the pods left: {}", e.toString());
        } finally {
            client.close();
            containerd.close();
            try {
                // runc makes its state root for the namespace; with no container left in it, it goes (a directory
                // that still holds one, another containerd's, stays)
                Files.deleteIfExists(RUNC_ROOT);
            } catch (IOException notEmpty) {
                // in use
            }
        }
    }
}
