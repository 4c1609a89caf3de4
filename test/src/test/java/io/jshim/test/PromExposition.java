package io.jshim.test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/)
 * for tests: every sample belongs to a family declared by HELP and TYPE before it, names and labels are well
 * formed, values parse, a family is declared once, and a histogram's buckets are cumulative and end in +Inf equal
 * to its _count. Throws AssertionError naming the line otherwise.
 */
public record PromExposition(List<Sample> samples) {
    public record Sample(String name, Map<String, String> labels, double value) {}

    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
            + "(counter|gauge|histogram|summary|untyped)");

    public static PromExposition parse(String text) {
        if (!text.endsWith("\n")) {
            throw new AssertionError("exposition does not end with a newline");
        }
        Map<String, String> types = new HashMap<>();
        String current = null;
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                continue;
            }
            Matcher t = TYPE.matcher(line);
            if (t.matches()) {
                if (types.put(t.group(1), t.group(2)) != null) {
                    throw new AssertionError("family declared twice: " + line);
                }
                current = t.group(1);
                continue;
            }
            Matcher s = SAMPLE.matcher(line);
            if (!s.matches()) {
                throw new AssertionError("not a sample line: " + line);
            }
            String name = s.group(1);
            String family = "histogram".equals(types.get(current)) ? name.replaceFirst("_(bucket|sum|count)$", "")
                    : name;
            if (!family.equals(current)) {
                throw new AssertionError("sample outside its family " + current + ": " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (s.group(2) != null) {
                for (String pair : splitLabels(s.group(2), line)) {
                    Matcher l = LABEL.matcher(pair);
                    if (!l.matches() || labels.put(l.group(1), l.group(2)) != null) {
                        throw new AssertionError("bad or repeated label " + pair + ": " + line);
                    }
                }
            }
            double value;
            try {
                value = Double.parseDouble(s.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"));
            } catch (NumberFormatException e) {
                throw new AssertionError("bad value: " + line);
            }
            samples.add(new Sample(name, labels, value));
        }
        PromExposition e = new PromExposition(List.copyOf(samples));
        e.checkHistograms(types);
        return e;
    }

    private static List<String> splitLabels(String body, String line) {
        List<String> pairs = new ArrayList<>();
        Matcher l = LABEL.matcher(body);
        int at = 0;
        while (at < body.length()) {
            if (!l.find(at) || l.start() != at) {
                throw new AssertionError("bad labels: " + line);
            }
            pairs.add(l.group());
            at = l.end();
            if (at < body.length()) {
                if (body.charAt(at) != ',') {
                    throw new AssertionError("bad labels: " + line);
                }
                at++;
            }
        }
        return pairs;
    }

    private void checkHistograms(Map<String, String> types) {
        types.forEach((family, type) -> {
            if (!type.equals("histogram")) {
                return;
            }
            Map<Map<String, String>, Double> last = new HashMap<>();
            for (Sample s : samples) {
                if (!s.name().equals(family + "_bucket")) {
                    continue;
                }
                Map<String, String> series = new HashMap<>(s.labels());
                String le = series.remove("le");
                if (le == null) {
                    throw new AssertionError(family + " bucket without le: " + s);
                }
                Double before = last.put(series, s.value());
                if (before != null && before > s.value()) {
                    throw new AssertionError(family + " buckets not cumulative: " + s);
                }
                if (le.equals("+Inf") && value(family + "_count", series) != s.value()) {
                    throw new AssertionError(family + " _count differs from the +Inf bucket: " + s);
                }
            }
        });
    }

    /** The value of the one sample with this name and exactly these labels; NaN if there is none. */
    public double value(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels))
                .mapToDouble(Sample::value).findFirst().orElse(Double.NaN);
    }

    /** The samples of this name whose labels include {@code subset}. */
    public List<Sample> find(String name, Map<String, String> subset) {
        return samples.stream().filter(s -> s.name().equals(name)
                && s.labels().entrySet().containsAll(subset.entrySet())).toList();
    }
}
