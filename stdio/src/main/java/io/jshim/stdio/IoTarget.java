package io.jshim.stdio;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the stdio strings of a request mean. As in the runc shim, the scheme is taken from stdout
 * only, parsed the way Go's {@code url.Parse} does.
 */
sealed interface IoTarget {

    /** All three strings empty: runc gets /dev/null. */
    record Null() implements IoTarget {}

    /** No scheme (or "fifo"): the three strings are paths to fifos (or regular files) the client made. */
    record Fifo() implements IoTarget {}

    /** file://path: stdout and stderr both appended to path. */
    record File(String path) implements IoTarget {}

    /**
     * binary://path?k=v: a logging binary.
     *
     * @param query the query pairs in order, first value of each key ("" for a key without value)
     * @param strictReady binary-v2://: the ready byte is mandatory
     */
    record Binary(String path, Map<String, String> query, boolean strictReady) implements IoTarget {
        public Binary {
            query = Collections.unmodifiableMap(new LinkedHashMap<>(query));
        }
    }

    static IoTarget of(StdioSpec spec) throws StdioSchemeException {
        if (spec.isNull()) {
            return new Null();
        }
        String uri = spec.stdout();
        String scheme = scheme(uri);
        return switch (scheme) {
            case "", "fifo" -> new Fifo();
            case "file" -> new File(path(uri, scheme));
            case "binary", "binary-v2" -> {
                String path = path(uri, scheme);
                if (path.isEmpty()) {
                    throw new StdioSchemeException("binary logging uri has no path: " + uri);
                }
                yield new Binary(path, query(uri), scheme.equals("binary-v2"));
            }
            default -> throw new StdioSchemeException("unknown STDIO scheme " + scheme);
        };
    }

    /** Go's getScheme: letters, then letters/digits/+-. up to ':'; anything else means no scheme. */
    static String scheme(String uri) throws StdioSchemeException {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                continue;
            }
            if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
                if (i == 0) {
                    return "";
                }
                continue;
            }
            if (c == ':') {
                if (i == 0) {
                    throw new StdioSchemeException("unable to parse stdout uri: missing protocol scheme");
                }
                return uri.substring(0, i).toLowerCase(Locale.ROOT);
            }
            return "";
        }
        return "";
    }

    /** The unescaped path of scheme:[//authority]path[?query][#fragment]; the authority is ignored, as Go does. */
    private static String path(String uri, String scheme) throws StdioSchemeException {
        String rest = uri.substring(scheme.length() + 1);
        rest = cut(cut(rest, '#'), '?');
        if (rest.startsWith("//")) {
            int slash = rest.indexOf('/', 2);
            rest = slash < 0 ? "" : rest.substring(slash);
        }
        return unescape(rest, false);
    }

    private static Map<String, String> query(String uri) throws StdioSchemeException {
        String noFragment = cut(uri, '#');
        int q = noFragment.indexOf('?');
        Map<String, String> pairs = new LinkedHashMap<>();
        if (q < 0) {
            return pairs;
        }
        for (String pair : noFragment.substring(q + 1).split("&")) {
            if (pair.isEmpty() || pair.contains(";")) {
                continue; // Go's ParseQuery drops these
            }
            int eq = pair.indexOf('=');
            String key = unescape(eq < 0 ? pair : pair.substring(0, eq), true);
            String value = eq < 0 ? "" : unescape(pair.substring(eq + 1), true);
            pairs.putIfAbsent(key, value);
        }
        return pairs;
    }

    private static String cut(String s, char c) {
        int i = s.indexOf(c);
        return i < 0 ? s : s.substring(0, i);
    }

    private static String unescape(String s, boolean plusIsSpace) throws StdioSchemeException {
        if (s.indexOf('%') < 0 && !(plusIsSpace && s.indexOf('+') >= 0)) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b == '%') {
                if (i + 2 >= bytes.length || Character.digit(bytes[i + 1], 16) < 0 || Character.digit(bytes[i + 2], 16) < 0) {
                    throw new StdioSchemeException("unable to parse stdout uri: invalid URL escape in \"" + s + "\"");
                }
                out.write(Character.digit(bytes[i + 1], 16) * 16 + Character.digit(bytes[i + 2], 16));
                i += 2;
            } else if (b == '+' && plusIsSpace) {
                out.write(' ');
            } else {
                out.write(b);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
