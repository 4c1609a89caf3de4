package io.jshim.test;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An OCI bundle for tests: {@code config.json} from the template {@code runc spec} writes, with the process,
 * root and namespaces the test asks for.
 */
public final class OciBundle {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
    private final JsonObject spec;

    private OciBundle(JsonObject spec) {
        this.spec = spec;
    }

    public static OciBundle of(String... args) {
        try (InputStream in = OciBundle.class.getResourceAsStream("/oci-template.json")) {
            JsonObject spec = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            OciBundle b = new OciBundle(spec);
            b.process().addProperty("terminal", false);
            b.args(args);
            JsonArray env = new JsonArray();
            env.add("PATH=/bin");
            b.process().add("env", env);
            spec.getAsJsonObject("root").addProperty("readonly", false);
            // ttys and nofile as a container manager would set them
            return b;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public JsonObject process() {
        return spec.getAsJsonObject("process");
    }

    public OciBundle args(String... args) {
        JsonArray a = new JsonArray();
        for (String s : args) {
            a.add(s);
        }
        process().add("args", a);
        return this;
    }

    public OciBundle terminal(boolean on) {
        process().addProperty("terminal", on);
        return this;
    }

    /** Shares the host's PID namespace (no pid entry), the case where the shim must kill what is left. */
    public OciBundle hostPid() {
        JsonArray ns = spec.getAsJsonObject("linux").getAsJsonArray("namespaces");
        JsonArray kept = new JsonArray();
        for (JsonElement e : ns) {
            if (!"pid".equals(e.getAsJsonObject().get("type").getAsString())) {
                kept.add(e);
            }
        }
        spec.getAsJsonObject("linux").add("namespaces", kept);
        return this;
    }

    /** Joins the PID namespace at {@code path} (e.g. /proc/PID/ns/pid): shared, so also kill-all on init exit. */
    public OciBundle joinPid(String path) {
        for (JsonElement e : spec.getAsJsonObject("linux").getAsJsonArray("namespaces")) {
            if ("pid".equals(e.getAsJsonObject().get("type").getAsString())) {
                e.getAsJsonObject().addProperty("path", path);
            }
        }
        return this;
    }

    public OciBundle annotation(String key, String value) {
        JsonObject a = spec.has("annotations") ? spec.getAsJsonObject("annotations") : new JsonObject();
        a.addProperty(key, value);
        spec.add("annotations", a);
        return this;
    }

    public OciBundle rootPath(String path) {
        spec.getAsJsonObject("root").addProperty("path", path);
        return this;
    }

    /** The process spec of an exec (what containerd sends in ExecProcessRequest.spec). */
    public static byte[] processJson(List<String> args, boolean terminal) {
        JsonObject p = OciBundle.of().process().deepCopy();
        JsonArray a = new JsonArray();
        args.forEach(a::add);
        p.add("args", a);
        p.addProperty("terminal", terminal);
        return GSON.toJson(p).getBytes(StandardCharsets.UTF_8);
    }

    /** Writes config.json into {@code bundle} (created), with {@code rootfs} as the root. */
    public Path writeTo(Path bundle, Path rootfs) throws IOException {
        Files.createDirectories(bundle);
        spec.getAsJsonObject("root").addProperty("path", rootfs.toAbsolutePath().toString());
        if (!spec.getAsJsonObject("linux").has("cgroupsPath")) {
            // Unique per test JVM, so a container left by a crashed run is never mistaken for this run's.
            spec.getAsJsonObject("linux").addProperty("cgroupsPath",
                    "/jshim-test-" + ProcessHandle.current().pid() + "-" + bundle.getFileName());
        }
        Files.writeString(bundle.resolve("config.json"), GSON.toJson(spec));
        return bundle;
    }

    public String json() {
        return GSON.toJson(spec);
    }
}
