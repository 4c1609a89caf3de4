package io.jshim.shim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file the launcher's cold starts of one group lock ({@code /run/jshim/groups/<socket name>.lock}), so that
 * only one of them binds the group's socket. Once a daemon serves the socket the lock has done its job: a later
 * start finds the daemon listening and joins it. The daemon removes the file then, because the start that made it
 * may have been killed (containerd kills a start whose client went away) before it could remove it, and a node
 * would otherwise keep a file for every such group. A start still waiting on the removed file notices and locks
 * the one at the path, as the launcher says.
 */
final class GroupStartLock {
    static final Path DIR = Path.of("/run/jshim/groups");

    private GroupStartLock() {}

    /** Removes the lock file of the group served on {@code socket}; quietly, as nothing depends on it. */
    static void release(Path socket) {
        if (socket == null || socket.getFileName() == null) {
            return;
        }
        try {
            Files.deleteIfExists(DIR.resolve(socket.getFileName() + ".lock"));
        } catch (IOException | SecurityException e) {
            // not ours to remove (another uid's directory) or already gone: the next start of the group copes
        }
    }
}
