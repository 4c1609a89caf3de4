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

    /** The second whitespace-separated field of {@code s} (no regex: the daemon's boot should not load one). */
    static String secondField(String s) {
        int i = 0;
        for (int field = 0; ; field++) {
            while (i < s.length() && isSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < s.length() && !isSpace(s.charAt(i))) {
                i++;
            }
            if (start == i) {
                throw new ArrayIndexOutOfBoundsException("no field " + field + " in '" + s + "'");
            }
            if (field == 1) {
                return s.substring(start, i);
            }
        }
    }

    /** What the regex class \\s matches: space, tab, newline, vertical tab, form feed, carriage return. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** The second field of the "Uid:" line (real, effective, saved, filesystem). */
    static int readEffectiveUid(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(secondField(line.substring(4)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + status, e);
        }
        throw new IllegalStateException("no Uid: line in " + status);
    }
}
