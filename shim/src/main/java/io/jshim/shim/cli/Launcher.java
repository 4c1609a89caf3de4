package io.jshim.shim.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How to run this shim again (for the daemon): the launcher script named by {@code JSHIM_LAUNCHER} (set by the
 * installed {@code containerd-shim-jshim-v2}), else this very JVM with its class path and flags.
 */
final class Launcher {
    private Launcher() {}

    static List<String> command() {
        String launcher = System.getenv("JSHIM_LAUNCHER");
        if (launcher != null && !launcher.isEmpty() && Files.isExecutable(Path.of(launcher))) {
            return List.of(launcher);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        return cmd;
    }
}
