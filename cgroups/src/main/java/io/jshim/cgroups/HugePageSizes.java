package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The huge page sizes the kernel supports, named the way the hugetlb controller names its files
 * ("2MB", "1GB"), read once from /sys/kernel/mm/hugepages: the set is fixed at boot.
 */
final class HugePageSizes {

    private static final class Holder {
        static final List<String> SIZES = scan(Path.of("/sys/kernel/mm/hugepages"));
    }

    private HugePageSizes() {}

    static List<String> all() {
        return Holder.SIZES;
    }

    static List<String> scan(Path dir) {
        List<Long> kib = new ArrayList<>();
        // the names hugepages-*kB, filtered by hand: a glob compiles to a java.util.regex pattern
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (!name.startsWith("hugepages-") || !name.endsWith("kB") || name.length() < "hugepages-kB".length()) {
                    continue;
                }
                try {
                    kib.add(Long.parseLong(name.substring("hugepages-".length(), name.length() - 2)));
                } catch (NumberFormatException e) {
                    // not a size directory
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        kib.sort(null);
        List<String> names = new ArrayList<>(kib.size());
        for (long k : kib) {
            names.add(name(k));
        }
        return List.copyOf(names);
    }

    /** As mm/hugetlb_cgroup.c names its files: the largest whole unit of KB, MB or GB. */
    static String name(long kib) {
        if (kib >= (1L << 20)) {
            return (kib >> 20) + "GB";
        }
        if (kib >= (1L << 10)) {
            return (kib >> 10) + "MB";
        }
        return kib + "KB";
    }
}
