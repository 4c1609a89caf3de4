package io.jshim.proto.wire;

import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * protobuf's JSON mapping, as far as jshim uses it: printing any message compactly with its proto field names
 * (the event stream's text form, a bundle's {@code options.json}), and reading a message of scalar fields
 * (runc's options back from {@code options.json}), where unknown fields are skipped.
 */
public final class ProtoJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private ProtoJson() {}

    public static String print(ProtoMessage m) {
        StringBuilder out = new StringBuilder();
        message(out, m);
        return out.toString();
    }

    private static void message(StringBuilder out, ProtoMessage m) {
        switch (m.typeName()) {
            case "google.protobuf.Timestamp" -> {
                timestamp(out, m);
                return;
            }
            case "google.protobuf.Any" -> {
                // Without a registry of every type an Any may hold, its value stays bytes.
                out.append("{\"@type\":");
                quote(out, m.stringField("type_url"));
                m.visitFields((name, value, unsigned) -> {
                    if (name.equals("value")) {
                        out.append(",\"value\":");
                        value(out, value, unsigned);
                    }
                });
                out.append('}');
                return;
            }
            default -> { }
        }
        out.append('{');
        int start = out.length();
        m.visitFields((name, value, unsigned) -> {
            if (out.length() > start) {
                out.append(',');
            }
            quote(out, name);
            out.append(':');
            value(out, value, unsigned);
        });
        out.append('}');
    }

    private static void timestamp(StringBuilder out, ProtoMessage m) {
        long[] secondsNanos = new long[2];
        m.visitFields((name, value, unsigned) -> {
            if (name.equals("seconds")) secondsNanos[0] = (Long) value;
            if (name.equals("nanos")) secondsNanos[1] = (Integer) value;
        });
        // protobuf's JSON has no form for a Timestamp outside years 1 to 9999 or with nanos outside a second
        if (secondsNanos[0] < -62_135_596_800L || secondsNanos[0] > 253_402_300_799L
                || secondsNanos[1] < 0 || secondsNanos[1] > 999_999_999) {
            throw new IllegalArgumentException("Timestamp out of range: " + secondsNanos[0] + "s " + secondsNanos[1] + "ns");
        }
        // Instant prints 0, 3, 6 or 9 fraction digits, as protobuf's JSON does.
        quote(out, Instant.ofEpochSecond(secondsNanos[0], secondsNanos[1]).toString());
    }

    private static void value(StringBuilder out, Object value, boolean unsigned) {
        switch (value) {
            case String s -> quote(out, s);
            case Boolean b -> out.append(b);
            case Integer i -> out.append(unsigned ? Integer.toUnsignedString(i) : Integer.toString(i));
            case Long l -> quote(out, unsigned ? Long.toUnsignedString(l) : Long.toString(l));
            case Float f -> floating(out, f.doubleValue(), f.toString()); // a float's shortest digits, not its double's
            case Double d -> floating(out, d, d.toString());
            case Bytes b -> out.append('"').append(Base64.getEncoder().encodeToString(b.array())).append('"'); // '=' as is
            case Enum<?> e -> quote(out, e.name());
            case ProtoMessage m -> message(out, m);
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) out.append(',');
                    value(out, list.get(i), unsigned);
                }
                out.append(']');
            }
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    quote(out, (String) e.getKey());
                    out.append(':');
                    value(out, e.getValue(), unsigned);
                }
                out.append('}');
            }
            default -> throw new IllegalArgumentException("no JSON form for " + value.getClass());
        }
    }

    private static void floating(StringBuilder out, double d, String text) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            quote(out, Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        } else {
            out.append(text);
        }
    }

    static void quote(StringBuilder out, String s) {
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

    /**
     * Reads a JSON object of scalar fields into the builder: proto names or their lowerCamel JSON names; unknown
     * fields and nested values are skipped.
     *
     * @throws IllegalArgumentException when the text is not a JSON object, or a value does not fit its field
     */
    public static <T extends ProtoMessage> T parseScalars(String json, ProtoBuilder<T> into) {
        JsonScanner in = new JsonScanner(json);
        in.objectFields((name, value) -> {
            if (value != JsonScanner.SKIPPED && !into.setField(name, value)) {
                into.setField(snake(name), value);
            }
        });
        return into.build();
    }

    private static String snake(String camel) {
        StringBuilder out = new StringBuilder();
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('_').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
