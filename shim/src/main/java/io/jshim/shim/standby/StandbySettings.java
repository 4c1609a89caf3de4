package io.jshim.shim.standby;

import io.jshim.shim.cli.Flags;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How a standby was booted (scripts/launcher.sh {@code boot_standby}): {@code ... standby CONTROL CONTAINERD_PID},
 * with the start's flags; the control socket's name is the key of what it serves (containerd address, shim binary,
 * protocol and settings), and {@code JSHIM_STANDBY_IDLE} its idle limit.
 *
 * @param control     the control socket; {@code <key>.lock} beside it is held while this standby lives
 */
record StandbySettings(Path control, Path lock, int containerdPid, String address, boolean debug, Duration idle) {
    static final Duration DEFAULT_IDLE = Duration.ofMinutes(15);
    static final String IDLE_ENV = "JSHIM_STANDBY_IDLE";

    static StandbySettings of(Flags flags, Map<String, String> env) {
        if (flags.args().size() != 3) {
            throw new IllegalArgumentException("usage: ... standby CONTROL_SOCKET CONTAINERD_PID");
        }
        Path control = Path.of(flags.args().get(1));
        String name = control.getFileName().toString();
        if (!control.isAbsolute() || !name.endsWith(".sock")) {
            throw new IllegalArgumentException("the control socket must be an absolute path ending in .sock");
        }
        Path lock = control.resolveSibling(name.substring(0, name.length() - ".sock".length()) + ".lock");
        int pid = Integer.parseInt(flags.args().get(2));
        if (flags.get("address").isEmpty()) {
            throw new IllegalArgumentException("a standby needs -address (the containerd it serves)");
        }
        return new StandbySettings(control, lock, pid, flags.get("address"), flags.is("debug"),
                idle(env.get(IDLE_ENV)));
    }

    /** Seconds, or a number with s, m or h; unset or empty: 15 minutes. */
    static Duration idle(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_IDLE;
        }
        String v = value.strip();
        char unit = v.charAt(v.length() - 1);
        long n;
        try {
            n = Long.parseLong(Character.isDigit(unit) ? v : v.substring(0, v.length() - 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(IDLE_ENV + "=" + value + ": not a duration (900, 900s, 15m, 1h)");
        }
        if (n <= 0) {
            throw new IllegalArgumentException(IDLE_ENV + "=" + value + ": must be positive");
        }
        return switch (unit) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> {
                if (!Character.isDigit(unit)) {
                    throw new IllegalArgumentException(IDLE_ENV + "=" + value + ": unit must be s, m or h");
                }
                yield Duration.ofSeconds(n);
            }
        };
    }
}
