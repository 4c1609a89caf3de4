package io.jshim.shim.exporter;

import io.jshim.shim.exporter.TextFormat.Family;
import io.jshim.shim.exporter.TextFormat.Label;
import io.jshim.shim.exporter.TextFormat.Sample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the daemons' expositions into one: each family once (HELP and TYPE of the first daemon that has it), all
 * its samples together, each sample with the labels that tell its daemon apart ({@code pid},
 * {@code containerd_address}; a label of that name the daemon wrote itself becomes {@code exported_<name>}), then
 * the exporter's own families. A family whose TYPE differs from the one already taken (daemons of two versions) is
 * left out for that daemon.
 */
public final class Merge {
    private static final Logger log = LoggerFactory.getLogger(Merge.class);
    static final String UP = "jshim_daemon_up";
    static final String DURATION = "jshim_daemon_scrape_duration_seconds";
    static final String DAEMONS = "jshim_exporter_daemons";
    static final String REMOVED = "jshim_exporter_stale_registrations_removed_total";
    static final String FAILURES = "jshim_exporter_daemon_scrape_failures_total";
    private static final Set<String> OWN = Set.of(UP, DURATION, DAEMONS, REMOVED, FAILURES);

    /** The exporter's counts since it started. */
    public record Totals(long staleRemoved, long scrapeFailures) {}

    private Merge() {}

    public static String text(List<Scraper.Result> results, Totals totals) {
        Map<String, Merged> families = new LinkedHashMap<>();
        for (Scraper.Result r : results) {
            if (!(r.outcome() instanceof Scraper.Up up)) {
                continue;
            }
            List<Label> extra = daemonLabels(r.target(), false);
            for (Family f : up.families()) {
                if (OWN.contains(f.name())) {
                    continue;
                }
                Merged m = families.computeIfAbsent(f.name(), n -> new Merged(f.type(), f.help()));
                if (!java.util.Objects.equals(m.type, f.type())) {
                    log.warn("daemon pid {}: family {} is a {}, another daemon's a {}: left out", r.target().pid(),
                            f.name(), f.type(), m.type);
                    continue;
                }
                for (Sample s : f.samples()) {
                    m.samples.add(new Sample(s.name(), relabel(s.labels(), extra), s.value(), s.timestamp()));
                }
            }
        }
        StringBuilder out = new StringBuilder(8192 * Math.max(1, results.size()));
        families.forEach((name, m) -> write(out, name, m.type, m.help, m.samples));
        write(out, UP, "gauge", "1 if the daemon answered the exporter's scrape in time, else 0.",
                results.stream().map(r -> own(UP, r.target(), r.outcome() instanceof Scraper.Up ? "1" : "0"))
                        .toList());
        write(out, DURATION, "gauge", "How long scraping the daemon took, in seconds.",
                results.stream().map(r -> own(DURATION, r.target(), Double.toString(r.seconds()))).toList());
        write(out, DAEMONS, "gauge", "Live daemons registered on the node (/run/jshim/daemons).",
                List.of(new Sample(DAEMONS, List.of(), Integer.toString(results.size()), null)));
        write(out, REMOVED, "counter", "Registrations of dead daemons (killed) the exporter removed.",
                List.of(new Sample(REMOVED, List.of(), Long.toString(totals.staleRemoved()), null)));
        write(out, FAILURES, "counter", "Scrapes of a daemon that failed or ran out of time.",
                List.of(new Sample(FAILURES, List.of(), Long.toString(totals.scrapeFailures()), null)));
        return out.toString();
    }

    private static final class Merged {
        final String type;
        final String help;
        final List<Sample> samples = new ArrayList<>();

        Merged(String type, String help) {
            this.type = type;
            this.help = help;
        }
    }

    private static List<Label> daemonLabels(Target t, boolean withNamespace) {
        List<Label> labels = new ArrayList<>(3);
        labels.add(new Label("pid", Integer.toString(t.pid())));
        labels.add(new Label("containerd_address", t.containerdAddress()));
        if (withNamespace) {
            labels.add(new Label("namespace", t.namespace()));
        }
        return labels;
    }

    private static Sample own(String name, Target t, String value) {
        return new Sample(name, daemonLabels(t, true), value, null);
    }

    /** The daemon's labels after {@code extra}; one of the daemon's own named as an extra one is renamed. */
    static List<Label> relabel(List<Label> labels, List<Label> extra) {
        List<Label> out = new ArrayList<>(extra.size() + labels.size());
        out.addAll(extra);
        for (Label l : labels) {
            boolean clash = extra.stream().anyMatch(e -> e.name().equals(l.name()));
            out.add(clash ? new Label("exported_" + l.name(), l.value()) : l);
        }
        return out;
    }

    private static void write(StringBuilder out, String name, String type, String help, List<Sample> samples) {
        if (help != null) {
            out.append("# HELP ").append(name).append(' ').append(TextFormat.escapeHelp(help)).append('\n');
        }
        if (type != null) {
            out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        }
        for (Sample s : samples) {
            out.append(s.name());
            if (!s.labels().isEmpty()) {
                out.append('{');
                for (int i = 0; i < s.labels().size(); i++) {
                    Label l = s.labels().get(i);
                    out.append(i == 0 ? "" : ",").append(l.name()).append("=\"")
                            .append(TextFormat.escapeLabel(l.value())).append('"');
                }
                out.append('}');
            }
            out.append(' ').append(s.value());
            if (s.timestamp() != null) {
                out.append(' ').append(s.timestamp());
            }
            out.append('\n');
        }
    }
}
