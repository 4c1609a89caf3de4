package io.jshim.shim.standby;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a cold {@code start} hands a standby (scripts/launcher.sh, {@code prebound_daemon}): NUL-terminated records,
 * {@code jshim-handover 1} first, then {@code name=value} fields, {@code env=NAME=VALUE} for each variable of the
 * environment the start would have given a daemon it booted, and {@code end} last.
 *
 * @param fd            the bound, listening group socket in the sender's fd table (taken with pidfd_getfd)
 * @param socket        the group socket's path
 * @param bundle        the container's bundle: the daemon's working directory, its {@code log} fifo its stderr
 * @param debug         {@code -debug} was given
 * @param env           the adopted environment, passed to every child
 */
public record Handover(int fd, String namespace, String id, String address, String publishBinary, Path socket,
                       Path bundle, boolean debug, Map<String, String> env) {
    static final String MAGIC = "jshim-handover 1";
    static final String END = "end";
    private static final List<String> REQUIRED = List.of("fd", "namespace", "id", "address", "publish-binary",
            "socket", "bundle", "debug");

    /** Thrown for a message that is not a whole, well-formed handover; says what is wrong with it. */
    public static final class MalformedException extends Exception {
        MalformedException(String message) {
            super(message);
        }
    }

    /** Whether {@code message} holds the final record (the rest may still be on its way). */
    static boolean complete(byte[] message, int length) {
        byte[] end = ("\0" + END + "\0").getBytes(StandardCharsets.US_ASCII);
        if (length < end.length) {
            return false;
        }
        for (int i = 0; i < end.length; i++) {
            if (message[length - end.length + i] != end[i]) {
                return false;
            }
        }
        return true;
    }

    static Handover parse(byte[] message) throws MalformedException {
        String text = new String(message, StandardCharsets.UTF_8);
        if (!text.endsWith("\0")) {
            throw new MalformedException("partial handover: no final NUL after " + message.length + " bytes");
        }
        String[] records = text.substring(0, text.length() - 1).split("\0", -1);
        if (!records[0].equals(MAGIC)) {
            throw new MalformedException("not a jshim handover (first record " + quote(records[0]) + ")");
        }
        if (!records[records.length - 1].equals(END)) {
            throw new MalformedException("partial handover: no '" + END + "' record");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 1; i < records.length - 1; i++) {
            String r = records[i];
            int eq = r.indexOf('=');
            if (eq <= 0) {
                throw new MalformedException("record " + i + " is not name=value: " + quote(r));
            }
            String name = r.substring(0, eq);
            String value = r.substring(eq + 1);
            if (name.equals("env")) {
                int veq = value.indexOf('=');
                if (veq <= 0) {
                    throw new MalformedException("env record " + i + " is not env=NAME=VALUE: " + quote(r));
                }
                env.put(value.substring(0, veq), value.substring(veq + 1));
            } else if (!REQUIRED.contains(name)) {
                throw new MalformedException("unknown field " + quote(name));
            } else if (fields.put(name, value) != null) {
                throw new MalformedException("field " + name + " given twice");
            }
        }
        Set<String> missing = new HashSet<>(REQUIRED);
        missing.removeAll(fields.keySet());
        if (!missing.isEmpty()) {
            throw new MalformedException("missing field(s) " + missing);
        }
        for (String name : List.of("namespace", "id", "address", "socket", "bundle")) {
            if (fields.get(name).isEmpty()) {
                throw new MalformedException("empty field " + name);
            }
        }
        int fd;
        try {
            fd = Integer.parseInt(fields.get("fd"));
        } catch (NumberFormatException e) {
            throw new MalformedException("fd is not a number: " + quote(fields.get("fd")));
        }
        if (fd < 0) {
            throw new MalformedException("fd " + fd + " is negative");
        }
        Path socket = Path.of(fields.get("socket"));
        Path bundle = Path.of(fields.get("bundle"));
        if (!socket.isAbsolute() || !bundle.isAbsolute()) {
            throw new MalformedException("socket and bundle must be absolute paths");
        }
        String debug = fields.get("debug");
        if (!debug.isEmpty() && !debug.equals("-debug")) {
            throw new MalformedException("debug is neither empty nor -debug: " + quote(debug));
        }
        return new Handover(fd, fields.get("namespace"), fields.get("id"), fields.get("address"),
                fields.get("publish-binary"), socket, bundle, !debug.isEmpty(), Map.copyOf(env));
    }

    private static String quote(String s) {
        return "'" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
    }
}
