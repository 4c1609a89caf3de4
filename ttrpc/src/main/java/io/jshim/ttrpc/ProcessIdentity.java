package io.jshim.ttrpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Our own effective uid, read from /proc (no native call, no child process). */
final class ProcessIdentity {
    private ProcessIdentity() {
    }

    private static final class Holder {
        static final int EUID = readEffectiveUid(Path.of("/proc/self/status"));
    }

    static int effectiveUid() {
        return Holder.EUID;
    }

    /** The second field of the "Uid:" line (real, effective, saved, filesystem). */
    static int readEffectiveUid(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + status, e);
        }
        throw new IllegalStateException("no Uid: line in " + status);
    }
}
