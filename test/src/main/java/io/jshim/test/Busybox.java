package io.jshim.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A container root filesystem made from Debian's busybox-static: one static binary and its applet links. */
public final class Busybox {
    static final Path BINARY = Path.of("/bin/busybox");
    static final List<String> APPLETS = List.of("sh", "ash", "sleep", "cat", "echo", "true", "false", "ls", "ps",
            "kill", "head", "tail", "dd", "env", "id", "yes", "wc", "seq", "sha256sum", "touch", "mkdir", "rm", "tr",
            "printf", "test", "[", "grep", "sed", "date", "stty", "tty", "hostname", "nproc", "timeout", "readlink",
            "basename", "dirname", "chmod", "mount", "umount", "uname", "tee", "sync", "pidof", "top", "stat");

    private Busybox() {}

    /** Builds a rootfs at {@code dir} (created) and returns it. */
    public static Path rootfs(Path dir) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("busybox-static is not installed (make deps installs it)");
        }
        for (String d : List.of("bin", "proc", "dev", "sys", "tmp", "etc", "root", "run")) {
            Files.createDirectories(dir.resolve(d));
        }
        Path bin = dir.resolve("bin");
        Files.copy(BINARY, bin.resolve("busybox"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (String applet : APPLETS) {
            Path link = bin.resolve(applet);
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
        }
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
        return dir;
    }
}
