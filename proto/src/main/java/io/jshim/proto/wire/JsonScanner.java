package io.jshim.proto.wire;

import java.util.function.BiConsumer;

/** Just enough JSON to read one object's members: scalars are handed over, nested values skipped. */
final class JsonScanner {

    /** A member whose value was an object, an array or null. */
    static final Object SKIPPED = new Object();

    private final String s;
    private int pos;

    JsonScanner(String s) {
        this.s = s;
    }

    void objectFields(BiConsumer<String, Object> member) {
        space();
        expect('{');
        space();
        if (peek() == '}') {
            pos++;
        } else {
            do {
                space();
                String name = string();
                space();
                expect(':');
                space();
                member.accept(name, value());
                space();
            } while (take(','));
            expect('}');
        }
        space();
        if (pos != s.length()) {
            throw error("text after the object");
        }
    }

    private Object value() {
        char c = peek();
        switch (c) {
            case '"':
                return string();
            case '{':
                skipNested('{', '}');
                return SKIPPED;
            case '[':
                skipNested('[', ']');
                return SKIPPED;
            case 't':
                word("true");
                return Boolean.TRUE;
            case 'f':
                word("false");
                return Boolean.FALSE;
            case 'n':
                word("null");
                return SKIPPED;
            default:
                return number();
        }
    }

    private Object number() {
        int start = pos;
        while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
            pos++;
        }
        String text = s.substring(start, pos);
        if (text.isEmpty()) {
            throw error("unexpected character");
        }
        try {
            return text.contains(".") || text.contains("e") || text.contains("E")
                    ? (Object) Double.parseDouble(text) : (Object) Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw error("bad number " + text);
        }
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (pos + 4 > s.length()) {
                        throw error("bad \\u escape");
                    }
                    try { // four hex digits: not parseInt, which takes a sign
                        out.append((char) java.util.HexFormat.fromHexDigits(s, pos, pos + 4));
                    } catch (IllegalArgumentException x) {
                        throw error("bad \\u escape");
                    }
                    pos += 4;
                }
                default -> out.append(e); // \" \\ \/
            }
        }
    }

    private void skipNested(char open, char close) {
        int depth = 0;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '"') {
                string();
                continue;
            }
            pos++;
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return;
                }
            }
        }
        throw error("unterminated " + open + close);
    }

    private void word(String w) {
        if (!s.startsWith(w, pos)) {
            throw error("unexpected character");
        }
        pos += w.length();
    }

    private void space() {
        while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
            pos++;
        }
    }

    private char peek() {
        if (pos >= s.length()) {
            throw error("unexpected end");
        }
        return s.charAt(pos);
    }

    private boolean take(char c) {
        if (pos < s.length() && s.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!take(c)) {
            throw error("expected '" + c + "'");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("invalid JSON at offset " + pos + ": " + what);
    }
}
