package io.jshim.test.cri;

import io.jshim.test.Busybox;
import io.jshim.test.ImageArchive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The two images a CRI test needs, built from busybox-static as image archives: a pause image (the sandbox's
 * process: {@code sleep infinity}, nothing else in it) and a busybox image for the containers.
 */
record CriImages(String pause, String busybox, List<Path> archives) {
    static final String PAUSE = "jshim.test/cri/pause:1";
    static final String BUSYBOX = "jshim.test/cri/busybox:1";

    static CriImages build(Path dir) throws Exception {
        Path pauseRoot = dir.resolve("pause-rootfs");
        Files.createDirectories(pauseRoot.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), pauseRoot.resolve("bin/busybox"));
        Files.createSymbolicLink(pauseRoot.resolve("bin/sleep"), Path.of("busybox"));
        Path pause = ImageArchive.archive(pauseRoot, dir.resolve("pause"), PAUSE, List.of("/bin/sleep", "infinity"));
        Path busybox = ImageArchive.archive(Busybox.rootfs(dir.resolve("busybox-rootfs")), dir.resolve("busybox"),
                BUSYBOX, List.of("sh"));
        return new CriImages(PAUSE, BUSYBOX, List.of(pause, busybox));
    }
}
