package io.jshim.shim.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The shim's command line as containerd writes it, parsed the way Go's flag package reads it:
 * {@code -namespace ns -address a -publish-binary b -id x [-debug] [-bundle path] [-socket s] start|delete}.
 * Single or double dashes, {@code -name value} or {@code -name=value}; parsing stops at the first non-flag.
 */
public record Flags(Map<String, String> values, List<String> args) {
    private static final Set<String> BOOLEAN = Set.of("debug", "v", "version", "info");
    private static final Set<String> KNOWN = Set.of("namespace", "address", "publish-binary", "id", "bundle",
            "socket", "debug-socket", "debug", "v", "version", "info");

    public static Flags parse(String[] argv) {
        Map<String, String> values = new TreeMap<>();
        int i = 0;
        for (; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.equals("-")) {
                break;
            }
            String name = a.startsWith("--") ? a.substring(2) : a.substring(1);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!KNOWN.contains(name)) {
                throw new IllegalArgumentException("flag provided but not defined: -" + name);
            }
            if (value == null) {
                if (BOOLEAN.contains(name)) {
                    value = "true";
                } else if (i + 1 < argv.length) {
                    value = argv[++i];
                } else {
                    throw new IllegalArgumentException("flag needs an argument: -" + name);
                }
            }
            values.put(name, value);
        }
        List<String> rest = new ArrayList<>();
        for (; i < argv.length; i++) {
            rest.add(argv[i]);
        }
        return new Flags(values, rest);
    }

    public String get(String name) {
        return values.getOrDefault(name, "");
    }

    public boolean is(String name) {
        return "true".equals(values.get(name));
    }

    public String action() {
        return args.isEmpty() ? "" : args.get(0);
    }

    /** The flags to hand on to the daemon (everything but the action). */
    public List<String> toArgs() {
        List<String> out = new ArrayList<>();
        values.forEach((k, v) -> {
            if (BOOLEAN.contains(k)) {
                if ("true".equals(v)) {
                    out.add("-" + k);
                }
            } else {
                out.add("-" + k);
                out.add(v);
            }
        });
        return out;
    }
}
