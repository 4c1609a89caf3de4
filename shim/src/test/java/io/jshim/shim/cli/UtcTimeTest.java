package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UtcTimeTest {
    private static final DateTimeFormatter ISO_MILLIS = new java.time.format.DateTimeFormatterBuilder()
            .appendInstant(3).toFormatter();

    private static String ours(long millis) {
        return UtcTime.append(new StringBuilder(), millis).toString();
    }

    @Test
    void agreesWithJavaTimeOnEdgesOfMonthsYearsAndLeapDays() {
        for (String s : new String[] {"1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00.001Z",
                "2024-02-29T23:59:59.999Z", "2024-03-01T00:00:00.000Z", "2100-03-01T00:00:00.000Z",
                "2026-11-23T16:39:48.784Z", "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z"}) {
            assertEquals(s, ours(Instant.parse(s).toEpochMilli()));
        }
    }

    @Test
    void agreesWithJavaTimeOnRandomInstants() {
        SplittableRandom random = new SplittableRandom(42);
        long max = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        long min = Instant.parse("0000-01-01T00:00:00.000Z").toEpochMilli();
        for (int i = 0; i < 100_000; i++) {
            long millis = random.nextLong(min, max);
            assertEquals(ISO_MILLIS.format(Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.MILLIS)), ours(millis),
                    "millis " + millis);
        }
    }
}
