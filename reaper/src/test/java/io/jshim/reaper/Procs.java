package io.jshim.reaper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Test helpers that read /proc. */
final class Procs {
    private Procs() {
    }

    static boolean fullScale() {
        return "full".equals(System.getProperty("jshim.scale", "small"));
    }

    static int scaled(int small, int full) {
        return fullScale() ? full : small;
    }

    /** The fields of /proc/PID/stat after "(comm)": index 0 is the state, 1 ppid, 2 pgrp, 3 session. */
    static Optional<String[]> stat(int pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return Optional.of(s.substring(s.lastIndexOf(')') + 2).trim().split(" "));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Zombies whose parent is this JVM. */
    static List<Integer> zombieChildren() {
        int self = Posix.getpid();
        List<Integer> zombies = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(Path.of("/proc"))) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                String name = dir.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                int pid = Integer.parseInt(name);
                stat(pid).ifPresent(f -> {
                    if (f[0].equals("Z") && Integer.parseInt(f[1]) == self) {
                        zombies.add(pid);
                    }
                });
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return zombies;
    }

    /**
     * Zombie children of ours that are still there after {@code millis}: a zombie seen at one
     * instant may be between its exit and the reaper's waitpid; one that stays is a leak.
     */
    static List<Integer> lingeringZombies(long millis) throws InterruptedException {
        List<Integer> zombies = zombieChildren();
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!zombies.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            List<Integer> now = zombieChildren();
            zombies.retainAll(now);
        }
        return zombies;
    }
}
