package io.jshim.proto.wire;

/** A message for logs and test failures: {@code containerd.events.TaskExit{container_id: "c1", pid: 42}}. */
public final class ProtoText {
    private ProtoText() {}

    public static String toString(ProtoMessage m) {
        StringBuilder out = new StringBuilder(m.typeName()).append('{');
        int start = out.length();
        m.visitFields((name, value, unsigned) -> {
            if (out.length() > start) {
                out.append(", ");
            }
            out.append(name).append(": ");
            if (value instanceof String s) {
                out.append('"').append(s).append('"');
            } else if (value instanceof Integer i && unsigned) {
                out.append(Integer.toUnsignedString(i));
            } else if (value instanceof Long l && unsigned) {
                out.append(Long.toUnsignedString(l));
            } else {
                out.append(value);
            }
        });
        return out.append('}').toString();
    }
}
