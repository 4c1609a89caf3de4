package io.jshim.shim.standby;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether an fd is the listening unix socket bound at a path, by its inode in /proc/net/unix. */
final class GroupSocket {
    private static final String LISTENING = "00010000"; // __SO_ACCEPTCON

    private GroupSocket() {}

    static boolean isListening(int fd, Path path) throws IOException {
        String link = TakenFd.describe(fd);
        if (!link.startsWith("socket:[") || !link.endsWith("]")) {
            return false;
        }
        String inode = link.substring("socket:[".length(), link.length() - 1);
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"), StandardCharsets.US_ASCII)) {
            String[] f = io.jshim.shim.Fields.spaceSeparated(line);
            // Num RefCount Protocol Flags Type St Inode Path
            if (f.length == 8 && f[6].equals(inode)) {
                return f[3].equals(LISTENING) && f[7].equals(path.toString());
            }
        }
        return false;
    }
}
