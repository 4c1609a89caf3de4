package io.jshim.shim.task;

import io.jshim.proto.wire.ProtoJson;
import io.jshim.proto.json.Json;
import io.jshim.proto.runc.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.nio.file.attribute.PosixFilePermissions;

/** The files of a bundle the shim reads and writes (as containerd runtime/v2/bundle.go lays it out). */
public final class Bundle {
    public static final String OPTIONS_JSON = "options.json";
    public static final String RUNTIME = "runtime";
    public static final String INIT_PID = "init.pid";

    private Bundle() {}

    /**
     * Whether the init's exit must be followed by {@code runc kill --all}: true unless config.json gives the
     * container a new PID namespace of its own (a pid entry with no path). Unreadable config → true, as the reference.
     */
    public static boolean killAllOnInitExit(Path bundle) {
        try {
            Map<String, Object> spec = Json.object(Json.parse(Files.readString(bundle.resolve("config.json"))));
            for (Object ns : Json.array(Json.object(spec.get("linux")).get("namespaces"))) {
                Map<String, Object> o = Json.object(ns);
                if ("pid".equals(Json.string(o.get("type"))) && Json.string(o.get("path")).isEmpty()) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** The grouping annotations of config.json (for {@code start}). */
    public static Map<String, Object> annotations(Path bundle) {
        try {
            return Json.object(Json.object(Json.parse(Files.readString(bundle.resolve("config.json")))).get("annotations"));
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }

    public static void writeOptions(Path bundle, Options options) throws IOException {
        // protobuf's JSON mapping with the proto field names, compact; "{}" for no options
        String json = ProtoJson.print(options);
        writePrivate(bundle.resolve(OPTIONS_JSON), json);
        writePrivate(bundle.resolve(RUNTIME), options.getBinaryName());
    }

    /**
     * The runtime options {@code Create} wrote. No file means no options (a bundle whose Create failed early), as
     * the reference's {@code ReadOptions}; a file that cannot be read or parsed is an error naming it, never a
     * silent default (which would point {@code delete} at the wrong runc root or binary).
     */
    public static Options readOptions(Path bundle) throws IOException {
        Path file = bundle.resolve(OPTIONS_JSON);
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            return Options.getDefaultInstance();
        } catch (IOException e) {
            throw new IOException("cannot read the runtime options " + file + ": " + e, e);
        }
        try {
            return ProtoJson.parseScalars(json, Options.newBuilder());
        } catch (RuntimeException e) {
            throw new IOException("malformed runtime options " + file + ": " + e.getMessage(), e);
        }
    }

    public static int readPid(Path pidFile) throws IOException {
        String text = Files.readString(pidFile, StandardCharsets.US_ASCII).trim();
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IOException("bad pid file " + pidFile + ": '" + text + "'");
        }
    }

    private static void writePrivate(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
