package io.jshim.cgroups;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reading cgroup interface files. A missing file is an empty result, never an error: controllers
 * and files come and go with kernel versions and configuration (containerd's IgnoreNotExist).
 */
final class CgroupFiles {

    /** How a literal "max" reads: cgroup v1 callers get 0 (containerd's readUint), v2 all ones. */
    enum Max { ZERO, ALL_ONES }

    private CgroupFiles() {}

    static Optional<String> read(Path file) throws IOException {
        try {
            return Optional.of(new String(Files.readAllBytes(file), StandardCharsets.US_ASCII));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    static Optional<List<String>> lines(Path file) throws IOException {
        return read(file).map(CgroupFiles::splitLines);
    }

    /** {@code s.lines().toList()} without a stream (the daemon's boot reads cgroup files; streams would be in its
     *  AOT cache): lines end at \n, \r or \r\n, and no empty line follows the last terminator. */
    static List<String> splitLines(String s) {
        List<String> out = new java.util.ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r') {
                out.add(s.substring(start, i));
                i += c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1;
                start = i;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return java.util.Collections.unmodifiableList(out);
    }

    static OptionalLong readUint(Path file, Max max) throws IOException {
        Optional<String> text = read(file);
        if (text.isEmpty()) {
            return OptionalLong.empty();
        }
        String s = text.get().trim();
        try {
            return OptionalLong.of(parseUint(s, max));
        } catch (NumberFormatException e) {
            throw new IOException(file + ": not a number: " + s);
        }
    }

    /** A u64 as protobuf's Java long carries it (bit pattern); negatives clamp to 0 as containerd does. */
    static long parseUint(String s, Max max) {
        if (s.equals("max")) {
            return max == Max.ZERO ? 0 : -1L;
        }
        if (s.startsWith("-")) {
            Long.parseLong(s); // still reject garbage
            return 0;
        }
        return Long.parseUnsignedLong(s);
    }

    /** "key value" lines; lines that are not two fields with a number are skipped. */
    static Optional<Map<String, Long>> readKeyValues(Path file, Max max) throws IOException {
        return lines(file).map(lines -> parseKeyValues(lines, max));
    }

    static Map<String, Long> parseKeyValues(List<String> lines, Max max) {
        Map<String, Long> out = new HashMap<>();
        for (String line : lines) {
            // Two fields split on whitespace, by hand: String.split("\\s+") compiles a regex on every call, and
            // these files are read on the path of every exit (memory.events) and of every Stats.
            String t = line.strip();
            int gap = whitespaceIn(t);
            if (gap < 0) {
                continue;
            }
            String value = t.substring(gap).strip();
            if (whitespaceIn(value) >= 0) {
                continue;
            }
            try {
                out.put(t.substring(0, gap), parseUint(value, max));
            } catch (NumberFormatException e) {
                // a value this reader does not understand: leave the field zero
            }
        }
        return out;
    }

    /** The index of the first space, tab, newline, vertical tab, form feed or carriage return (regex \\s), or -1. */
    private static int whitespaceIn(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r') {
                return i;
            }
        }
        return -1;
    }
}
