package io.jshim.test;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * An image made from a rootfs directory, imported into a private containerd as a docker archive (no registry
 * needed), so containers run from a snapshot: containerd then passes rootfs mounts (overlay) in Create, and the
 * shim mounts and unmounts them as in production.
 */
public final class ImageArchive {
    private ImageArchive() {}

    /** Builds the archive in {@code work} from {@code rootfs} and imports it as {@code ref}; returns ref. */
    public static String importInto(PrivateContainerd containerd, Path rootfs, Path work, String ref)
            throws Exception {
        containerd.ctrOk("image", "import", "--all-platforms", archive(rootfs, work, ref, List.of("sh")).toString());
        return ref;
    }

    /** Builds the archive in {@code work} from {@code rootfs}, tagged {@code ref}, its default command {@code cmd}. */
    public static Path archive(Path rootfs, Path work, String ref, List<String> cmd) throws Exception {
        Files.createDirectories(work);
        Path layer = work.resolve("layer.tar");
        run("tar", "-C", rootfs.toString(), "-cf", layer.toString(), ".");
        String diffId = "sha256:" + HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(layer)));
        JsonObject config = new JsonObject();
        config.addProperty("architecture", "amd64");
        config.addProperty("os", "linux");
        JsonObject inner = new JsonObject();
        JsonArray env = new JsonArray();
        env.add("PATH=/bin");
        inner.add("Env", env);
        JsonArray argv = new JsonArray();
        cmd.forEach(argv::add);
        inner.add("Cmd", argv);
        config.add("config", inner);
        JsonObject fsRoot = new JsonObject();
        fsRoot.addProperty("type", "layers");
        JsonArray diffIds = new JsonArray();
        diffIds.add(diffId);
        fsRoot.add("diff_ids", diffIds);
        config.add("rootfs", fsRoot);
        Files.writeString(work.resolve("config.json"), config.toString());
        JsonObject entry = new JsonObject();
        entry.addProperty("Config", "config.json");
        JsonArray tags = new JsonArray();
        tags.add(ref);
        entry.add("RepoTags", tags);
        JsonArray layers = new JsonArray();
        layers.add("layer.tar");
        entry.add("Layers", layers);
        JsonArray manifest = new JsonArray();
        manifest.add(entry);
        Files.writeString(work.resolve("manifest.json"), manifest.toString());
        Path archive = work.resolve("image.tar");
        run("tar", "-C", work.toString(), "-cf", archive.toString(), "manifest.json", "config.json", "layer.tar");
        return archive;
    }

    private static void run(String... argv) throws Exception {
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(argv), null, Duration.ofSeconds(60));
        if (r.status() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + ": " + r.stderrText());
        }
    }
}
