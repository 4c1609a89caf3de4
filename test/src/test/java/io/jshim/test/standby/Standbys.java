package io.jshim.test.standby;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/** Finding a containerd's standby by its command line, and what the tests compare, normalised. */
final class Standbys {
    private Standbys() {}

    /** A waiting standby: {@code ... -address <containerd> ... standby <control> <containerd pid>}, cwd /. */
    record Standby(int pid, Path control) {
        boolean ready() {
            try {
                return Files.readString(Path.of("/proc/net/unix")).lines()
                        .anyMatch(l -> l.endsWith(" " + control) && l.contains(" 00010000 0001 01 "));
            } catch (IOException e) {
                return false;
            }
        }

        String log() {
            String name = control.getFileName().toString();
            try {
                return Files.readString(control.resolveSibling(name.replace(".sock", ".log")));
            } catch (IOException e) {
                return "";
            }
        }
    }

    static Optional<Standby> find(Path containerdSocket) {
        String marker = "-address\0" + containerdSocket + "\0";
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = Files.readString(p.resolve("cmdline"));
                    List<String> args = List.of(cmdline.split("\0"));
                    int i = args.indexOf("standby");
                    // an adopted standby keeps its command line; its working directory is then its bundle
                    if (cmdline.contains(marker) && i > 0 && i == args.size() - 3
                            && Files.readSymbolicLink(p.resolve("cwd")).toString().equals("/")
                            && !Files.readString(p.resolve("stat")).contains(") Z ")) {
                        return Optional.of(new Standby(Integer.parseInt(p.getFileName().toString()),
                                Path.of(args.get(i + 1))));
                    }
                } catch (IOException | RuntimeException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return Optional.empty();
    }

    /** Polls {@code condition} every 50 ms for up to 60 s (a standby boots at SCHED_IDLE on busy cores). */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(50);
        }
    }

    static String which(String program) {
        for (String d : System.getenv("PATH").split(":")) {
            Path p = Path.of(d, program);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException(program + " not on PATH");
    }

    /** A recorded environment with the container's id, bundle and group socket replaced by placeholders. */
    static List<String> normalised(Path recorded, String id, Path bundle) throws IOException {
        return Files.readAllLines(recorded, StandardCharsets.UTF_8).stream()
                .map(l -> l.startsWith("JSHIM_SOCKET=") ? "JSHIM_SOCKET=<group socket>" : l)
                .map(l -> l.replace(bundle.toString(), "<bundle>").replace(id, "<id>"))
                .toList();
    }
}
