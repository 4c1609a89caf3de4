package io.jshim.proto.json;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON reader (RFC 8259) for the little JSON the shim reads: a bundle's config.json (annotations, namespaces)
 * and runc's output ({@code runc ps}, its log lines).
 *
 * <p>Why not gson: its first use initialises ~100 classes (type adapters for dates, numbers, collections and
 * more), all kept in every daemon's AOT cache and so in its resident memory, to read a few fields.
 *
 * <p>Values: an object is a {@code Map<String, Object>} in document order (a repeated name keeps its last value),
 * an array a {@code List<Object>}, a string a {@link String}, a number a {@link Long} when it is an integer that
 * fits, a {@link java.math.BigInteger} when it is a larger integer (a uint64 such as an rlimit's 2^64-1 must be
 * written back exactly) and a {@link Double} otherwise, {@code true}/{@code false} a {@link Boolean}, {@code null} Java's null.
 * Malformed input throws {@link IllegalArgumentException} naming the offset.
 */
public final class Json {
    private static final int MAX_DEPTH = 512;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** The value {@code text} holds (surrounding whitespace allowed, nothing else after it). */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the value");
        }
        return value;
    }

    /** {@code value} as an object, or an empty one if it is not an object (absent, null, another type). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Object value) {
        return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /** {@code value} as an array, or an empty one if it is not an array. */
    @SuppressWarnings("unchecked")
    public static List<Object> array(Object value) {
        return value instanceof List<?> l ? (List<Object>) l : List.of();
    }

    /** {@code value} as a string, or "" if it is not a string. */
    public static String string(Object value) {
        return value instanceof String s ? s : "";
    }

    /** {@code value} (of the types {@link #parse} returns) as compact JSON. */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value);
        return b.toString();
    }

    private static void write(StringBuilder b, Object value) {
        switch (value) {
            case null -> b.append("null");
            case String s -> quote(b, s);
            case Boolean bool -> b.append(bool);
            case Long l -> b.append(l);
            case Integer i -> b.append(i);
            case java.math.BigInteger big -> b.append(big);
            case Double d when Double.isFinite(d) -> b.append(d);
            case Map<?, ?> m -> {
                b.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    b.append(sep);
                    quote(b, (String) e.getKey());
                    b.append(':');
                    write(b, e.getValue());
                    sep = ",";
                }
                b.append('}');
            }
            case List<?> l -> {
                b.append('[');
                String sep = "";
                for (Object o : l) {
                    b.append(sep);
                    write(b, o);
                    sep = ",";
                }
                b.append(']');
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /**
     * A JSON string literal of {@code s}, appended, escaped as protobuf's JSON printer and gson do: also the
     * characters HTML and JavaScript treat specially ({@code < > & = '}, U+2028, U+2029).
     */
    public static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '=' || c == '\'') {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
                    } else if (c == '\u2028' || c == '\u2029') { // line separators: JavaScript's string literals end there
                        out.append(c == '\u2028' ? "\\u2028" : "\\u2029");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH);
        }
        if (pos >= text.length()) {
            throw error("a value expected");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        pos++; // {
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return Collections.unmodifiableMap(map);
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("a member name expected");
            }
            String name = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            map.put(name, value(depth + 1));
            skipWhitespace();
            char c = next("',' or '}' expected");
            if (c == '}') {
                return Collections.unmodifiableMap(map);
            }
            if (c != ',') {
                pos--;
                throw error("',' or '}' expected");
            }
        }
    }

    private List<Object> array(int depth) {
        pos++; // [
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth + 1));
            skipWhitespace();
            char c = next("',' or ']' expected");
            if (c == ']') {
                return Collections.unmodifiableList(list);
            }
            if (c != ',') {
                pos--;
                throw error("',' or ']' expected");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = null;
        int start = pos;
        while (true) {
            char c = next("unterminated string");
            if (c == '"') {
                return b == null ? text.substring(start, pos - 1) : b.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("a control character in a string");
            }
            if (c == '\\') {
                if (b == null) {
                    b = new StringBuilder(text.length() - start).append(text, start, pos - 1);
                }
                char e = next("unterminated escape");
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> b.append(hex4());
                    default -> {
                        pos--;
                        throw error("an invalid escape '\\" + e + "'");
                    }
                }
            } else if (b != null) {
                b.append(c);
            }
        }
    }

    private char hex4() {
        if (pos + 4 > text.length()) {
            throw error("a truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos), 16);
            if (d < 0) {
                throw error("a non-hex digit in a \\u escape");
            }
            v = v * 16 + d;
            pos++;
        }
        return (char) v; // surrogate pairs stay two chars, as in Java strings
    }

    private Object number() {
        int start = pos;
        boolean integral = true;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("a digit expected");
        }
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("a digit expected after '.'");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("a digit expected in the exponent");
            }
            digits();
        }
        String literal = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooBig) {
                return new java.math.BigInteger(literal);
            }
        }
        return Double.parseDouble(literal);
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected characters");
        }
        pos += word.length();
        return value;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** The current character, or 0 at the end. */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : 0;
    }

    private char next(String atEnd) {
        if (pos >= text.length()) {
            throw error(atEnd);
        }
        return text.charAt(pos++);
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("'" + c + "' expected");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("malformed JSON at offset " + pos + ": " + what);
    }
}
