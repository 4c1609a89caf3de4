package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Names for block devices by major:minor ("/dev/vda"), from /sys/dev/block/M:m/uevent DEVNAME.
 * Cached: a major:minor keeps its name while the device exists, and a stale name only mislabels
 * a statistic.
 */
final class BlockDevices {

    private static final Path SYS_DEV_BLOCK = Path.of("/sys/dev/block");
    /** Thread-safe by its own design; only found names are kept, so a device added later is found. */
    private static final Map<String, String> NAMES = new ConcurrentHashMap<>();

    private BlockDevices() {}

    static String name(long major, long minor) {
        String key = major + ":" + minor;
        String known = NAMES.get(key);
        if (known != null) {
            return known;
        }
        String found = lookup(key);
        if (!found.isEmpty()) {
            NAMES.put(key, found);
        }
        return found;
    }

    private static String lookup(String majorMinor) {
        try {
            for (String l : CgroupFiles.lines(SYS_DEV_BLOCK.resolve(majorMinor).resolve("uevent")).orElse(List.of())) {
                if (l.startsWith("DEVNAME=")) {
                    return "/dev/" + l.substring("DEVNAME=".length());
                }
            }
            return "";
        } catch (IOException e) {
            return "";
        }
    }
}
