package io.jshim.shim.runc;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.ProtoReader;
import io.jshim.proto.runc.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code runtimeoptions.v1.Options}, what containerd's CRI plugin sends to a runtime type it does not know as runc
 * (any handler with an {@code options} table other than {@code io.containerd.runc.v2}): {@code type_url} (1),
 * {@code config_path} (2) and {@code config_body} (3), the handler's {@code options} table as TOML (containerd 1.7
 * and later; 1.6 sends the message empty). The keys are runc's option names, as in a runc.v2 handler's table
 * ({@code BinaryName}, {@code Root}, {@code SystemdCgroup}, ...); this reads the flat {@code key = value} lines of
 * that table (other keys are passed over, as containerd does), so a handler's options reach jshim as they would reach the runc shim.
 */
final class CriRuntimeOptions {
    static final String TYPE = "runtimeoptions.v1.Options";

    private CriRuntimeOptions() {}

    static Options parse(Bytes value) throws IOException {
        byte[] bytes = value.toByteArray();
        ProtoReader in = new ProtoReader(bytes, 0, bytes.length);
        String body = "";
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag == (3 << 3 | 2)) { // config_body, length-delimited
                body = in.bytes().toStringUtf8();
            } else {
                in.skip(tag);
            }
        }
        return fromToml(body);
    }

    /** The flat {@code key = value} lines of one TOML table; comments and blank lines are passed over. */
    static Options fromToml(String body) {
        Options.Builder b = Options.newBuilder();
        for (String raw : body.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("runtime options: not a key = value line: " + line);
            }
            String key = unquote(line.substring(0, eq).strip());
            String value = line.substring(eq + 1).strip();
            switch (key) {
                case "BinaryName" -> b.setBinaryName(string(key, value));
                case "Root" -> b.setRoot(string(key, value));
                case "CriuPath" -> b.setCriuPath(string(key, value));
                case "CriuImagePath" -> b.setCriuImagePath(string(key, value));
                case "CriuWorkPath" -> b.setCriuWorkPath(string(key, value));
                case "ShimCgroup" -> b.setShimCgroup(string(key, value));
                case "SystemdCgroup" -> b.setSystemdCgroup(bool(key, value));
                case "NoPivotRoot" -> b.setNoPivotRoot(bool(key, value));
                case "NoNewKeyring" -> b.setNoNewKeyring(bool(key, value));
                case "IoUid" -> b.setIoUid(integer(key, value));
                case "IoGid" -> b.setIoGid(integer(key, value));
                default -> { } // as containerd decodes a handler's table: keys it does not know are passed over
            }
        }
        return b.build();
    }

    private static String unquote(String s) {
        return s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))
                ? s.substring(1, s.length() - 1) : s;
    }

    private static String string(String key, String value) {
        if (value.length() < 2 || !(value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            throw new IllegalArgumentException("runtime options: " + key + " must be a string, not " + value);
        }
        String s = value.substring(1, value.length() - 1);
        if (value.startsWith("\"") && s.contains("\\")) {
            throw new IllegalArgumentException("runtime options: " + key + ": escapes are not supported");
        }
        return s;
    }

    private static boolean bool(String key, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("runtime options: " + key + " must be true or false");
        };
    }

    private static int integer(String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("runtime options: " + key + " must be an integer, not " + value);
        }
    }
}
