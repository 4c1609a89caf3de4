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
    private InstalledShim() {}

    public static Path repoRoot() {
        Path here = Path.of("").toAbsolutePath();
        return Files.exists(here.resolve("scripts/install.sh")) ? here : here.getParent();
    }

    /** Runs scripts/install.sh into {@code dir}; returns the bin directory holding containerd-shim-jshim-v2. */
    public static Path install(Path dir) throws Exception {
        Path bin = dir.resolve("bin");
        Path lib = dir.resolve("lib");
        var env = new java.util.HashMap<>(System.getenv());
        env.putIfAbsent("JAVA_HOME", System.getProperty("java.home"));
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of("bash",
                repoRoot().resolve("scripts/install.sh").toString(), bin.toString(), lib.toString()).withEnv(env),
                null, Duration.ofSeconds(180)); // the AOT training, on two loaded cores
        if (r.status() != 0) {
            throw new IllegalStateException("install.sh failed: " + r.stdoutText() + r.stderrText());
        }
        return bin;
    }
}
