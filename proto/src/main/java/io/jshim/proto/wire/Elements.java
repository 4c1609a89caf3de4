package io.jshim.proto.wire;

import io.jshim.proto.json.Json;
import java.util.List;
import java.util.Map;

/** A repeated field's list and a map field's entries, written element by element for {@link ProtoJson} and {@link ProtoText}. */
final class Elements {
    private Elements() {}

    /** Writes one element value. */
    @FunctionalInterface
    interface ValueWriter {
        void write(StringBuilder out, Object value, boolean unsigned);
    }

    /** {@code [a<sep>b]}. */
    static void list(StringBuilder out, List<?> list, String separator, boolean unsigned, ValueWriter each) {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                out.append(separator);
            }
            each.write(out, list.get(i), unsigned);
        }
        out.append(']');
    }

    /** {@code {"k"<colon>v<sep>...}}: keys (map keys are strings here) quoted as JSON strings. */
    static void map(StringBuilder out, Map<?, ?> map, String separator, String colon, boolean unsigned,
            ValueWriter each) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!first) {
                out.append(separator);
            }
            first = false;
            Json.quote(out, String.valueOf(e.getKey()));
            out.append(colon);
            each.write(out, e.getValue(), unsigned);
        }
        out.append('}');
    }
}
