package io.jshim.shim.exporter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), as far as merging several daemons' texts needs:
 * families (name, TYPE, HELP) with their samples, label values unescaped. A sample belongs to the family declared
 * last before it when its name is that family's or, for a histogram or summary, that name with the type's suffix;
 * any other sample makes an untyped family of its own name. Throws {@link IllegalArgumentException} naming the line
 * on anything malformed.
 */
public final class TextFormat {
    public record Label(String name, String value) {}

    /** One sample line; {@code value} and {@code timestamp} (null when absent) as written. */
    public record Sample(String name, List<Label> labels, String value, String timestamp) {}

    /** {@code type} and {@code help} are null when the text declared none. */
    public record Family(String name, String type, String help, List<Sample> samples) {}

    private TextFormat() {}

    public static List<Family> parse(String text) {
        Map<String, Builder> families = new LinkedHashMap<>();
        Builder current = null;
        int lineNo = 0;
        for (String raw : text.split("\n", -1)) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                if (line.startsWith("#")) {
                    String[] f = line.substring(1).strip().split("[ \t]+", 3);
                    if (f.length >= 2 && (f[0].equals("HELP") || f[0].equals("TYPE"))) {
                        current = families.computeIfAbsent(name(f[1]), Builder::new);
                        String rest = f.length == 3 ? f[2] : "";
                        if (f[0].equals("HELP")) {
                            current.help = unescapeHelp(rest);
                        } else if (current.type != null || !current.samples.isEmpty()) {
                            throw new IllegalArgumentException("TYPE after the family's samples or twice");
                        } else {
                            current.type = type(rest);
                        }
                    }
                    continue; // any other comment is ignored
                }
                Sample s = sample(line);
                Builder family = current != null && current.owns(s.name()) ? current
                        : families.computeIfAbsent(s.name(), Builder::new);
                family.samples.add(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + lineNo + ": " + e.getMessage() + ": " + raw, e);
            }
        }
        return families.values().stream().map(Builder::build).toList();
    }

    private static final class Builder {
        final String name;
        String type;
        String help;
        final List<Sample> samples = new ArrayList<>();

        Builder(String name) {
            this.name = name;
        }

        boolean owns(String sample) {
            if (sample.equals(name)) {
                return !"histogram".equals(type);
            }
            if (!sample.startsWith(name)) {
                return false;
            }
            String suffix = sample.substring(name.length());
            return switch (type == null ? "untyped" : type) {
                case "histogram" -> suffix.equals("_bucket") || suffix.equals("_sum") || suffix.equals("_count");
                case "summary" -> suffix.equals("_sum") || suffix.equals("_count");
                default -> false;
            };
        }

        Family build() {
            return new Family(name, type, help, List.copyOf(samples));
        }
    }

    private static String type(String t) {
        return switch (t) {
            case "counter", "gauge", "histogram", "summary", "untyped" -> t;
            default -> throw new IllegalArgumentException("unknown type " + t);
        };
    }

    static String name(String n) {
        if (n.isEmpty() || !nameStart(n.charAt(0))) {
            throw new IllegalArgumentException("bad metric name " + n);
        }
        for (int i = 1; i < n.length(); i++) {
            if (!nameStart(n.charAt(i)) && !(n.charAt(i) >= '0' && n.charAt(i) <= '9')) {
                throw new IllegalArgumentException("bad metric name " + n);
            }
        }
        return n;
    }

    private static boolean nameStart(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':';
    }

    private static Sample sample(String line) {
        int at = 0;
        while (at < line.length() && line.charAt(at) != '{' && line.charAt(at) != ' ' && line.charAt(at) != '\t') {
            at++;
        }
        String name = name(line.substring(0, at));
        List<Label> labels = new ArrayList<>();
        if (at < line.length() && line.charAt(at) == '{') {
            at = labels(line, at + 1, labels);
        }
        String[] rest = line.substring(at).strip().split("[ \t]+");
        if (rest.length < 1 || rest[0].isEmpty() || rest.length > 2) {
            throw new IllegalArgumentException("expected a value and at most a timestamp");
        }
        value(rest[0]);
        if (rest.length == 2) {
            try {
                Long.parseLong(rest[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad timestamp " + rest[1]);
            }
        }
        return new Sample(name, List.copyOf(labels), rest[0], rest.length == 2 ? rest[1] : null);
    }

    /** Reads {@code name="value",...}} from {@code at}; returns the index after the closing brace. */
    private static int labels(String line, int at, List<Label> out) {
        while (true) {
            at = skipBlanks(line, at);
            if (at < line.length() && line.charAt(at) == '}') {
                return at + 1;
            }
            int start = at;
            while (at < line.length() && line.charAt(at) != '=' && line.charAt(at) != ' ' && line.charAt(at) != '\t') {
                at++;
            }
            String label = line.substring(start, at);
            if (label.isEmpty() || label.contains(":") || Character.isDigit(label.charAt(0))) {
                throw new IllegalArgumentException("bad label name " + label);
            }
            name(label);
            at = skipBlanks(line, at);
            if (at + 1 >= line.length() || line.charAt(at) != '=' || line.charAt(skipBlanks(line, at + 1)) != '"') {
                throw new IllegalArgumentException("expected =\" after label " + label);
            }
            at = skipBlanks(line, at + 1) + 1;
            StringBuilder value = new StringBuilder();
            while (true) {
                if (at >= line.length()) {
                    throw new IllegalArgumentException("unterminated value of label " + label);
                }
                char c = line.charAt(at++);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (at >= line.length()) {
                        throw new IllegalArgumentException("unterminated value of label " + label);
                    }
                    char e = line.charAt(at++);
                    value.append(switch (e) {
                        case 'n' -> '\n';
                        case '\\' -> '\\';
                        case '"' -> '"';
                        default -> throw new IllegalArgumentException("bad escape \\" + e + " in label " + label);
                    });
                } else {
                    value.append(c);
                }
            }
            for (Label l : out) {
                if (l.name().equals(label)) {
                    throw new IllegalArgumentException("label " + label + " twice");
                }
            }
            out.add(new Label(label, value.toString()));
            at = skipBlanks(line, at);
            if (at < line.length() && line.charAt(at) == ',') {
                at++;
            } else if (at >= line.length() || line.charAt(at) != '}') {
                throw new IllegalArgumentException("expected , or } after label " + label);
            }
        }
    }

    private static int skipBlanks(String line, int at) {
        while (at < line.length() && (line.charAt(at) == ' ' || line.charAt(at) == '\t')) {
            at++;
        }
        return at;
    }

    /** Checks a sample value: a Go float (with Inf and NaN spelled as Prometheus does). */
    private static void value(String v) {
        switch (v) {
            case "NaN", "+Inf", "-Inf", "Inf" -> {
                return;
            }
            default -> {
                try {
                    Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad value " + v);
                }
                if (v.endsWith("d") || v.endsWith("D") || v.endsWith("f") || v.endsWith("F")) {
                    throw new IllegalArgumentException("bad value " + v);
                }
            }
        }
    }

    private static String unescapeHelp(String help) {
        StringBuilder out = new StringBuilder(help.length());
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            if (c == '\\' && i + 1 < help.length() && (help.charAt(i + 1) == 'n' || help.charAt(i + 1) == '\\')) {
                out.append(help.charAt(++i) == 'n' ? '\n' : '\\');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** A label value as the format writes it. */
    public static String escapeLabel(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    public static String escapeHelp(String help) {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }
}
