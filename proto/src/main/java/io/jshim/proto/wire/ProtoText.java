package io.jshim.proto.wire;

import io.jshim.proto.json.Json;
import java.util.List;
import java.util.Map;

/**
 * A message for logs and test failures: {@code containerd.events.TaskExit{container_id: "c1", pid: 42}}. Strings are
 * quoted and escaped as in JSON, so a value with a newline or a quote cannot split or forge a log line.
 */
public final class ProtoText {
    private ProtoText() {}

    public static String toString(ProtoMessage m) {
        StringBuilder out = new StringBuilder();
        message(out, m);
        return out.toString();
    }

    private static void message(StringBuilder out, ProtoMessage m) {
        out.append(m.typeName()).append('{');
        int start = out.length();
        m.visitFields((name, value, unsigned) -> {
            if (out.length() > start) {
                out.append(", ");
            }
            out.append(name).append(": ");
            value(out, value, unsigned);
        });
        out.append('}');
    }

    private static void value(StringBuilder out, Object value, boolean unsigned) {
        switch (value) {
            case String s -> Json.quote(out, s);
            case Integer i when unsigned -> out.append(Integer.toUnsignedString(i));
            case Long l when unsigned -> out.append(Long.toUnsignedString(l));
            case ProtoMessage m -> message(out, m);
            case List<?> list -> Elements.list(out, list, ", ", unsigned, ProtoText::value);
            case Map<?, ?> map -> Elements.map(out, map, ", ", ": ", unsigned, ProtoText::value);
            default -> out.append(value);
        }
    }
}
