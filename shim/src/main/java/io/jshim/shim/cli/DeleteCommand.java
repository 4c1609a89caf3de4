package io.jshim.shim.cli;

import io.jshim.events.Event;
import io.jshim.proto.runc.Options;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.shim.mount.Mounts;
import io.jshim.shim.process.ExitStatus;
import io.jshim.shim.runc.Runc;
import io.jshim.shim.runc.RuncException;
import io.jshim.shim.task.Bundle;
import io.jshim.shim.task.ExitFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * {@code ... -bundle <path> delete}: cleans up after a shim that is gone (containerd 1.6 also runs it after
 * every normal task delete, so it is idempotent and quick). Force-deletes the runc container, unmounts the rootfs,
 * and prints a DeleteResponse: the init's recorded exit status where the bundle has one, else 137 like the
 * reference (the shim died without recording it, so SIGKILL is the best guess). Warnings go to stderr, which
 * containerd logs as "cleanup warnings"; the exit code is 0 whatever was already gone.
 */
final class DeleteCommand {
    private final Flags flags;
    private final Path cwd;

    DeleteCommand(Flags flags, Path cwd) {
        this.flags = flags;
        this.cwd = cwd;
    }

    int run(PrintStream out, PrintStream err) throws IOException {
        String id = flags.get("id");
        String namespace = flags.get("namespace");
        // Like the reference: the bundle is <dir of cwd>/<id> (cwd is the bundle itself).
        Path bundle = flags.get("bundle").isEmpty() ? cwd.getParent().resolve(id) : Path.of(flags.get("bundle"));
        Options options = Bundle.readOptions(bundle);
        if (Files.isDirectory(bundle)) {
            Runc runc = new Runc(new Monitor(Reaper.get()), options.getBinaryName(),
                    Runc.rootFor(options.getRoot(), namespace), bundle.resolve("log.json"), options.getSystemdCgroup());
            try {
                runc.delete(id, true);
            } catch (RuncException | IOException e) {
                if (!(e instanceof RuncException re && re.isNotExist())) {
                    err.println("warning: runc delete --force " + id + ": " + e.getMessage());
                }
            }
            try {
                Mounts.unmountAll(bundle.resolve("rootfs"));
            } catch (IOException e) {
                err.println("warning: " + e.getMessage());
            }
        }
        int pid;
        try {
            pid = Bundle.readPid(bundle.resolve(Bundle.INIT_PID));
        } catch (IOException e) {
            pid = -1; // encoded as 4294967295, as the reference does
        }
        ExitStatus exit = ExitFile.read(bundle).orElse(new ExitStatus(128 + 9, Instant.now()));
        out.write(DeleteResponse.newBuilder().setPid(pid).setExitStatus(exit.status())
                .setExitedAt(Event.toTimestamp(exit.at())).build().toByteArray());
        out.flush();
        return 0;
    }
}
