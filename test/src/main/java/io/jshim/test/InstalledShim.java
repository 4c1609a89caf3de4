package io.jshim.test;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** jshim installed by its own install script into a directory of the test's (bin/ goes on containerd's PATH). */
public final class InstalledShim {
    /**
     * A bound that only catches a hung install: install.sh trains the AOT cache in a JVM of its own, which takes
     * minutes on two cores that other builds keep busy (60 s was seen to run out).
     */
    static final Duration INSTALL_LIMIT = Duration.ofMinutes(10);

    private InstalledShim() {}

    public static Path repoRoot() {
        Path here = Path.of("").toAbsolutePath();
        return Files.exists(here.resolve("scripts/install.sh")) ? here : here.getParent();
    }

    /** Runs scripts/install.sh into {@code dir}; returns the bin directory holding containerd-shim-jshim-v2. */
    public static Path install(Path dir) throws Exception {
        return install(dir, INSTALL_LIMIT);
    }

    /** As {@link #install(Path)}, waiting up to {@code timeout} for the script. */
    public static Path install(Path dir, Duration timeout) throws Exception {
        Path bin = dir.resolve("bin");
        Path lib = dir.resolve("lib");
        var env = new java.util.HashMap<>(System.getenv());
        env.putIfAbsent("JAVA_HOME", System.getProperty("java.home"));
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of("bash",
                repoRoot().resolve("scripts/install.sh").toString(), bin.toString(), lib.toString()).withEnv(env),
                null, timeout);
        if (r.status() != 0) {
            throw new IllegalStateException("install.sh failed: " + r.stdoutText() + r.stderrText());
        }
        return bin;
    }
}
