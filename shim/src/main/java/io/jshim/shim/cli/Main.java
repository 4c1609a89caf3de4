package io.jshim.shim.cli;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * {@code containerd-shim-jshim-v2}: {@code start}, {@code delete}, {@code events} and {@code metrics} (clients of a
 * daemon's socket), {@code exporter} (of every daemon's on the node), or (no action) the shim daemon itself.
 */
public final class Main {
    public static final String NAME = "containerd-shim-jshim-v2";
    public static final String VERSION = "0.1.0";

    private Main() {}

    public static void main(String[] argv) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        int code;
        try {
            code = run(argv, out, err);
        } catch (Throwable t) {
            err.print(NAME + ": " + (t.getMessage() == null ? t.toString() : t.getMessage()));
            err.flush();
            code = 1;
        }
        out.flush();
        System.exit(code);
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Flags flags = Flags.parse(argv);
        if (flags.is("v") || flags.is("version")) {
            out.println(NAME + ":");
            out.println("  Version:  " + VERSION);
            // the property, not Runtime.version(): the same text, but Version.toString joins its numbers with a
            // stream, and the training runs -v (every class it loads is in each daemon's AOT cache)
            out.println("  Runtime:  Java " + System.getProperty("java.runtime.version"));
            return 0;
        }
        if (flags.is("info")) {
            return InfoCommand.run(System.in.readAllBytes(), out, err);
        }
        if (flags.action().equals("metrics")) { // a client only: no native layout needed
            return io.jshim.shim.metrics.MetricsCommand.run(flags.args().subList(1, flags.args().size()),
                    flags.get("address"), out);
        }
        if (flags.action().equals("exporter")) { // a long-lived client of every daemon's socket
            LogSetup.toStderr(flags.is("debug"));
            return io.jshim.shim.exporter.ExporterCommand.run(flags.args().subList(1, flags.args().size()), out);
        }
        if (!flags.action().equals("events")) {
            io.jshim.reaper.Arch.require(); // before any struct is laid out by hand: start, delete, the daemon
        }
        Path cwd = Path.of("").toAbsolutePath();
        return switch (flags.action()) {
            case "start" -> new StartCommand(flags, cwd, System.in.readAllBytes()).run(out);
            case "delete" -> new DeleteCommand(flags, cwd).run(out, err);
            case "events" -> io.jshim.shim.grpc.EventsCommand.run(flags.args().subList(1, flags.args().size()),
                    flags.get("address"), out, err);
            case "" -> new Daemon(flags, cwd).run();
            case "standby" -> io.jshim.shim.standby.Standby.run(flags);
            default -> throw new IllegalArgumentException("unknown action " + flags.action());
        };
    }
}
