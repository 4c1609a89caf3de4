package io.jshim.shim.metrics;

import io.jshim.shim.CallTally;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): a HELP and TYPE line once per family, then its
 * samples. Hand-written rather than the Prometheus Java client: the format is a few lines of rules, and a client
 * library would add its registry and classes to every daemon for what one call per scrape needs. Not thread-safe
 * (one per scrape).
 */
public final class PromText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private final StringBuilder out = new StringBuilder(4096);
    private final Set<String> families = new HashSet<>();
    /** Labels put on every sample (name, value pairs), e.g. the namespace. */
    private final String[] common;

    public PromText(String... commonLabels) {
        if (commonLabels.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name, value pairs");
        }
        this.common = commonLabels.clone();
    }

    /** Starts a family; a family may be started once per exposition. */
    public PromText family(String name, String type, String help) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad metric name " + name);
        }
        if (!families.add(name)) {
            throw new IllegalStateException("metric family " + name + " written twice");
        }
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} are name, value pairs added after the common ones. */
    public PromText sample(String name, double value, String... labels) {
        out.append(name);
        if (common.length + labels.length > 0) {
            out.append('{');
            boolean first = appendLabels(common, true);
            appendLabels(labels, first);
            out.append('}');
        }
        out.append(' ').append(format(value)).append('\n');
        return this;
    }

    /** The histogram of calls {@code index} of {@code tally} (family already started), with {@code labels}. */
    public PromText histogram(String name, CallTally tally, int index, String... labels) {
        double[] bounds = CallTally.boundsSeconds();
        String[] withLe = new String[labels.length + 2];
        System.arraycopy(labels, 0, withLe, 0, labels.length);
        withLe[labels.length] = "le";
        long cumulative = 0;
        for (int b = 0; b <= bounds.length; b++) {
            cumulative += tally.bucket(index, b);
            withLe[labels.length + 1] = b < bounds.length ? format(bounds[b]) : "+Inf";
            sample(name + "_bucket", cumulative, withLe);
        }
        sample(name + "_sum", tally.sumNanos(index) / 1e9, labels);
        sample(name + "_count", cumulative, labels);
        return this;
    }

    private boolean appendLabels(String[] labels, boolean first) {
        for (int i = 0; i < labels.length; i += 2) {
            if (!LABEL.matcher(labels[i]).matches()) {
                throw new IllegalArgumentException("bad label name " + labels[i]);
            }
            if (!first) {
                out.append(',');
            }
            first = false;
            out.append(labels[i]).append("=\"").append(escape(labels[i + 1])).append('"');
        }
        return first;
    }

    static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    static String format(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        return Double.toString(value);
    }

    public String text() {
        return out.toString();
    }
}
