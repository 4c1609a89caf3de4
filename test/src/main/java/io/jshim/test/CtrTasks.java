package io.jshim.test;

import io.jshim.reaper.CommandResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** ctr command lines the end-to-end tests share: jshim containers from a rootfs directory, and their end. */
public final class CtrTasks {
    public static final String RUNTIME = "io.containerd.jshim.v2";
    private static final Pattern EXIT_CODE = Pattern.compile("exit code (\\d+)");

    private CtrTasks() {}

    /**
     * {@code ctr run [flags] <rootfs dir> <id> [command]} with jshim; {@code rest} is ctr flags (leading words
     * that start with '-', each with its value when it takes one) followed by the command.
     */
    public static String[] run(Path rootfs, String id, String... rest) {
        // --rootfs says the first argument is a directory, not an image
        List<String> a = new ArrayList<>(List.of("run", "--runtime", RUNTIME, "--rootfs", "--env", "PATH=/bin"));
        int split = 0;
        while (split < rest.length && rest[split].startsWith("-")) {
            a.add(rest[split++]);
            if (split < rest.length && takesValue(a.getLast()) ) {
                a.add(rest[split++]);
            }
        }
        a.add(rootfs.toString());
        a.add(id);
        a.addAll(List.of(rest).subList(split, rest.length));
        return a.toArray(String[]::new);
    }

    private static boolean takesValue(String flag) {
        return !flag.contains("=") && switch (flag) {
            case "--memory-limit", "--annotation", "--label", "--env", "--exec-id", "--cpus", "--runtime-config-path",
                 "--cwd", "--user", "-u", "--runc-binary" -> true;
            default -> false;
        };
    }

    /**
     * Waits until containerd reports the task stopped, deletes it, and returns its exit status (ctr 1.6 has no
     * {@code task wait}; {@code task delete} warns "exit with non-zero exit code N").
     */
    public static int awaitStoppedAndDelete(PrivateContainerd containerd, String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String ls = containerd.ctrOk("task", "ls");
            if (ls.lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("STOPPED"))) {
                CommandResult r = containerd.ctr("task", "delete", id);
                if (r.status() != 0) {
                    throw new AssertionError("ctr task delete " + id + ": " + r.stderrText());
                }
                Matcher m = EXIT_CODE.matcher(r.stdoutText() + r.stderrText());
                return m.find() ? Integer.parseInt(m.group(1)) : 0;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(id + " did not stop: " + containerd.ctrOk("task", "ls"));
    }
}
