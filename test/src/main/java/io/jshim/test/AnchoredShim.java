package io.jshim.test;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A real shim daemon started by a private containerd for an anchor container ({@code sleep}), which keeps the
 * daemon alive; tests then talk to that daemon directly over its socket, as containerd does, and watch it from
 * outside through {@link ShimDaemon}.
 */
public final class AnchoredShim implements AutoCloseable {
    private final PrivateContainerd containerd;
    private final String anchor;
    private final ShimDaemon daemon;
    private final TtrpcClient client;
    private final Path rootfs;

    private AnchoredShim(PrivateContainerd containerd, String anchor, ShimDaemon daemon, TtrpcClient client,
                         Path rootfs) {
        this.containerd = containerd;
        this.anchor = anchor;
        this.daemon = daemon;
        this.client = client;
        this.rootfs = rootfs;
    }

    /** Installs jshim, starts containerd and the anchor container, all under {@code dir}. */
    public static AnchoredShim start(Path dir, String anchor) throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        PrivateContainerd containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString());
        try {
            containerd.ctrOk(CtrTasks.run(rootfs, anchor, "-d", "sleep", "100000"));
            ShimDaemon daemon = ShimDaemon.ofBundle(ShimDaemon.bundleOf(containerd, anchor));
            return new AnchoredShim(containerd, anchor, daemon, daemon.connect(), rootfs);
        } catch (Exception e) {
            containerd.close();
            throw e;
        }
    }

    public ShimDaemon daemon() {
        return daemon;
    }

    public PrivateContainerd containerd() {
        return containerd;
    }

    public String anchor() {
        return anchor;
    }

    public Path rootfs() {
        return rootfs;
    }

    /** A unary Task call on the daemon, with containerd's namespace metadata. */
    public <R extends ProtoMessage> R call(String method, ProtoMessage request, ProtoParser<R> parser) throws TtrpcException {
        return client.call(ShimHarness.V2, method, request, parser, Duration.ofSeconds(60),
                Map.of("containerd-namespace-ttrpc", containerd.namespace()));
    }

    /** Typed Task calls on the daemon, containers under {@code runcRoot}. */
    public TaskClient tasks(Path runcRoot) {
        return new TaskClient(this::call, runcRoot);
    }

    @Override
    public void close() throws Exception {
        // containerd is closed whatever the polite steps throw: it ends the shims and containers it started.
        try (PrivateContainerd last = containerd) {
            client.close();
            containerd.ctr("task", "kill", "-s", "KILL", anchor);
            for (int i = 0; i < 50 && !containerd.ctrOk("task", "ls").lines()
                    .noneMatch(l -> l.startsWith(anchor + " ") && !l.contains("STOPPED")); i++) {
                Thread.sleep(100);
            }
            containerd.ctr("task", "delete", anchor);
            containerd.ctr("container", "rm", anchor);
        }
    }
}
