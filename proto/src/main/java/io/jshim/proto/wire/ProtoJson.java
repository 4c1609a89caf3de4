package io.jshim.proto.wire;

import io.jshim.proto.json.Json;
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
            case List<?> list -> Elements.list(out, list, ",", unsigned, ProtoJson::value);
            case Map<?, ?> map -> Elements.map(out, map, ",", ":", unsigned, ProtoJson::value);
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

    private static void quote(StringBuilder out, String s) {
        Json.quote(out, s);
    }

    /**
     * Reads a JSON object of scalar fields into the builder: proto names or their lowerCamel JSON names; unknown
     * fields and nested values are skipped.
     *
     * @throws IllegalArgumentException when the text is not a JSON object, or a value does not fit its field
     */
    public static <T extends ProtoMessage> T parseScalars(String json, ProtoBuilder<T> into) {
        if (!(Json.parse(json) instanceof Map<?, ?> object)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        for (Map.Entry<?, ?> member : object.entrySet()) {
            Object value = member.getValue();
            if (value == null || value instanceof Map || value instanceof List) {
                continue; // null is the default; nested values have no scalar field to go to
            }
            String name = (String) member.getKey();
            if (!into.setField(name, value)) {
                into.setField(snake(name), value);
            }
        }
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
