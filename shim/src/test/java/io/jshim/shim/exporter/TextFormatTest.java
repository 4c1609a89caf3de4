package io.jshim.shim.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.shim.exporter.TextFormat.Family;
import io.jshim.shim.exporter.TextFormat.Label;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextFormatTest {
    @Test
    void familiesTypesHelpAndEscapedLabelValues() {
        List<Family> f = TextFormat.parse("""
                # HELP a_total Things with a \\\\ and a\\nline.
                # TYPE a_total counter
                a_total{topic="/tasks/exit",odd="q\\"u\\\\o\\nte, {x}"} 3
                a_total{topic="b"} 1.5e+06 1700000000000
                # a plain comment
                
                # TYPE h histogram
                h_bucket{le="0.1"} 1
                h_bucket{le="+Inf"} 2
                h_sum 0.3
                h_count 2
                lonely{ a = "1" , } NaN
                """);
        assertEquals(List.of("a_total", "h", "lonely"), f.stream().map(Family::name).toList());
        Family a = f.get(0);
        assertEquals("counter", a.type());
        assertEquals("Things with a \\ and a\nline.", a.help());
        assertEquals(List.of(new Label("topic", "/tasks/exit"), new Label("odd", "q\"u\\o\nte, {x}")),
                a.samples().get(0).labels());
        assertEquals("1.5e+06", a.samples().get(1).value());
        assertEquals("1700000000000", a.samples().get(1).timestamp());
        assertEquals(4, f.get(1).samples().size(), "buckets, sum and count belong to the histogram");
        assertEquals("histogram", f.get(1).type());
        assertNull(f.get(2).type(), "a sample of no declared family is untyped");
        assertEquals(List.of(new Label("a", "1")), f.get(2).samples().get(0).labels());
    }

    @Test
    void aGaugeOfAHistogramsNameWithASuffixIsAFamilyOfItsOwn() {
        List<Family> f = TextFormat.parse("# TYPE x gauge\nx 1\nx_count 2\n");
        assertEquals(List.of("x", "x_count"), f.stream().map(Family::name).toList());
    }

    @Test
    void malformedLinesAreRefusedWithTheirLineNumber() {
        for (String bad : List.of("a{b=\"1\"", "a{b=\"1} 2", "a{b=1} 2", "a{b=\"\\x\"} 1", "a{b=\"1\",b=\"2\"} 1",
                "a 1 2 3", "a one", "a", "9a 1", "a{9=\"1\"} 1", "# TYPE a counterish", "a 1d",
                "# TYPE a gauge\na 1\n# TYPE a gauge")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TextFormat.parse("ok 1\n" + bad + "\n"), bad);
            assertTrue(e.getMessage().startsWith("line "), e.getMessage());
        }
    }

    @Test
    void escapingRoundTrips() {
        String value = "a\\b\"c\nd";
        List<Family> f = TextFormat.parse("m{l=\"" + TextFormat.escapeLabel(value) + "\"} 1\n");
        assertEquals(value, f.get(0).samples().get(0).labels().get(0).value());
    }
}
