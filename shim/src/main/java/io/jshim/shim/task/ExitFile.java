package io.jshim.shim.task;

import io.jshim.shim.process.ExitStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;

/**
 * The init's exit status kept in the bundle ({@code init.exit}: "status seconds nanos"), written atomically as
 * the exit is handled, so that {@code delete} after a shim crash reports the true status instead of the
 * reference's blanket 137.
 */
public final class ExitFile {
    public static final String NAME = "init.exit";

    private ExitFile() {}

    public static void write(Path bundle, ExitStatus exit) throws IOException {
        Path tmp = bundle.resolve("." + NAME + ".tmp");
        String text = exit.status() + " " + exit.at().getEpochSecond() + " " + exit.at().getNano() + "\n";
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        try {
            Files.move(tmp, bundle.resolve(NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, bundle.resolve(NAME), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public static Optional<ExitStatus> read(Path bundle) {
        try {
            String[] parts = Files.readString(bundle.resolve(NAME), StandardCharsets.US_ASCII).trim().split(" ");
            return Optional.of(new ExitStatus(Integer.parseInt(parts[0]),
                    Instant.ofEpochSecond(Long.parseLong(parts[1]), Long.parseLong(parts[2]))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
