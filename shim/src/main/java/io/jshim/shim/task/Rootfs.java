package io.jshim.shim.task;

import io.jshim.proto.types.Mount;
import io.jshim.shim.mount.Mounts;
import io.jshim.shim.process.Container;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** A container's rootfs: the mounts a Create names, made under the bundle's rootfs and undone by Delete. */
final class Rootfs {
    private Rootfs() {}

    /** Mounts {@code mounts} on the container's rootfs directory (made rwx--x--x, as containerd's shim does). */
    static void mount(Container c, List<Mount> mounts) throws IOException {
        var rootfs = c.rootfs();
        Files.createDirectories(rootfs);
        Files.setPosixFilePermissions(rootfs, PosixFilePermissions.fromString("rwx--x--x"));
        Mounts.mountAll(mounts, rootfs);
        c.setRootfsMounted(true);
    }

    /** Unmounts what {@link #mount} mounted, if anything. */
    static void unmount(Container c) throws IOException {
        if (c.rootfsMounted()) {
            Mounts.unmountAll(c.rootfs());
            c.setRootfsMounted(false);
        }
    }
}
