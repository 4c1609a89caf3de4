package io.jshim.shim.cli;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.runc.Options;
import io.jshim.proto.types.RuntimeInfo;
import io.jshim.proto.types.RuntimeVersion;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.runc.RuncOptionsParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * {@code containerd-shim-jshim-v2 -info}: the {@code containerd.types.RuntimeInfo} containerd 2.x reads once per
 * runtime before its first task (containerd's pkg/shim runInfo and the runc shim's manager Info): name, version,
 * the runtime options from stdin echoed, and the OCI runtime's {@code features} JSON as an Any. The launcher
 * answers it without a JVM (scripts/launcher.sh, runtime_info) with the same bytes; the tests compare them.
 *
 * <p>Options of type {@code containerd.runc.v1.Options} are echoed as given under that type URL and name the
 * runc binary; other types (the runc shim rejects them) are echoed as they came, with the default binary.
 */
final class InfoCommand {
    static final String RUNTIME_NAME = "io.containerd.jshim.v2";
    static final String FEATURES_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/features/Features";

    private InfoCommand() {}

    static int run(byte[] stdin, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        RuntimeInfo.Builder info = RuntimeInfo.newBuilder().setName(RUNTIME_NAME)
                .setVersion(RuntimeVersion.newBuilder().setVersion(Main.VERSION));
        String binary = "runc";
        if (stdin.length > 0) {
            Any options;
            try {
                options = Any.parseFrom(stdin);
                if (typeOf(options).equals(RuncOptionsParser.V1)) {
                    options = options.toBuilder().setTypeUrl(RuncOptionsParser.V1).build();
                    String named = Options.parseFrom(options.getValue()).getBinaryName();
                    binary = named.isEmpty() ? binary : named;
                }
            } catch (InvalidProtoException e) {
                err.print(Main.NAME + ": failed to read runtime options: " + e.getMessage());
                return 1;
            }
            info.setOptions(options);
        }
        Path path = lookPath(binary);
        if (path == null) {
            err.print(Main.NAME + ": failed to look up the path of \"" + binary
                    + "\": executable file not found in $PATH");
            return 1;
        }
        byte[] features = features(path);
        if (features != null) {
            info.setFeatures(Any.newBuilder().setTypeUrl(FEATURES_TYPE).setValue(Bytes.copyFrom(features)));
        }
        out.write(info.build().toByteArray());
        out.flush();
        return 0;
    }

    private static String typeOf(Any any) {
        return any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
    }

    /** As Go's exec.LookPath: a name with a slash as it is, else the first executable of that name on PATH. */
    static Path lookPath(String name) {
        if (name.contains("/")) {
            Path p = Path.of(name);
            return Files.isRegularFile(p) && Files.isExecutable(p) ? p : null;
        }
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "" : path).split(":", -1)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * {@code <runtime> features}, compacted as the runc shim's decode and re-encode leaves it; null when the
     * runtime has no such command (as the runc shim, the answer then has no features).
     */
    private static byte[] features(Path runtime) throws IOException, InterruptedException {
        CommandResult r;
        try {
            r = new Monitor(Reaper.get()).run(SpawnSpec.of(runtime.toString(), "features"), null,
                    Duration.ofSeconds(30));
        } catch (TimeoutException e) {
            return null;
        }
        return r.status() == 0 ? compactJson(new String(r.stdout(), StandardCharsets.ISO_8859_1)) : null;
    }

    /**
     * JSON without the whitespace between tokens (strings kept byte for byte, escapes and all: the text is read
     * as ISO-8859-1, one char per byte); null unless it is an object.
     */
    static byte[] compactJson(String json) {
        StringBuilder b = new StringBuilder(json.length());
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                b.append(c);
                if (c == '\\' && i + 1 < json.length()) {
                    b.append(json.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
                b.append(c);
            } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                b.append(c);
            }
        }
        String s = b.toString();
        return s.startsWith("{") && s.endsWith("}") && !inString ? s.getBytes(StandardCharsets.ISO_8859_1) : null;
    }
}
