package io.jshim.test;

import io.jshim.shim.cli.LogSetup;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the tests that drive one in-process shim over real runc share: a busybox rootfs, the shim, a Task client,
 * fresh container ids and bundles under the test's own directory. Closing it closes the shim.
 */
public final class ShimFixture implements AutoCloseable {
    private final Path dir;
    private final Path rootfs;
    private final ShimHarness shim;
    private final TaskClient tasks;
    private final AtomicInteger seq = new AtomicInteger();

    private ShimFixture(Path dir, Path rootfs, ShimHarness shim) {
        this.dir = dir;
        this.rootfs = rootfs;
        this.shim = shim;
        this.tasks = new TaskClient(shim);
    }

    /** @param logToStderr whether the shim's log goes to the test's stderr (noisy tests turn it off) */
    public static ShimFixture start(Path dir, boolean logToStderr) throws Exception {
        LogSetup.toStderr(logToStderr);
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        return new ShimFixture(dir, rootfs, new ShimHarness(dir.resolve("shim")));
    }

    public Path rootfs() {
        return rootfs;
    }

    public ShimHarness shim() {
        return shim;
    }

    public TaskClient tasks() {
        return tasks;
    }

    /** {@code prefix-N}, N counting up from 1 over the fixture's life; thread-safe. */
    public String newId(String prefix) {
        return prefix + "-" + seq.incrementAndGet();
    }

    /** Writes {@code spec} as the bundle of container {@code id}, on the shared rootfs. */
    public Path bundle(String id, OciBundle spec) throws Exception {
        return spec.writeTo(dir.resolve("bundles").resolve(id), rootfs);
    }

    @Override
    public void close() {
        shim.close();
    }
}
