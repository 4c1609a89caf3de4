package io.jshim.shim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A socket file this daemon listens on, known by device and inode from the moment it bound or adopted it, so
 * that shutting down removes only its own socket: once a shutting-down daemon stops accepting, a cold start of
 * the same group may find the socket dead, remove it and bind a new one at the same path, which the old daemon
 * must then leave alone.
 *
 * <p>What is left: a start that removes and rebinds between this daemon's check and its unlink (the two
 * system calls next to each other) still loses its socket; no atomic "unlink if inode" exists.
 */
record OwnSocket(Path path, Object device, Object inode) {

    /** The socket file now at {@code path}: call right after binding or adopting it. */
    static OwnSocket at(Path path) throws IOException {
        return new OwnSocket(path, Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS),
                Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS));
    }

    /** Removes the path if it still is this socket; whether it did. */
    boolean removeIfOurs() throws IOException {
        try {
            if (!device.equals(Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS))
                    || !inode.equals(Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS))) {
                return false; // another start of the group bound a socket of its own here
            }
            return Files.deleteIfExists(path);
        } catch (NoSuchFileException gone) {
            return false;
        }
    }
}
