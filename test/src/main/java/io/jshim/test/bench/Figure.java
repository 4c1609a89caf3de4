package io.jshim.test.bench;

/**
 * One row of the table: jshim's figure, the Go shim's from the same run, and the bounds. A bound is either
 * a ratio to the Go figure ({@code relative}) or an absolute figure in {@code unit}.
 */
record Figure(String name, String unit, double jshim, double go, double jshimP90, double goP90, boolean relative,
              double must, double goal) {

    double ratio() {
        return jshim / go;
    }

    /** The bound in {@code unit}: the ratio times the Go figure, or the absolute bound itself. */
    double mustLimit() {
        return relative ? must * go : must;
    }

    double goalLimit() {
        return relative ? goal * go : goal;
    }

    String verdict() {
        if (Double.isNaN(jshim)) {
            return "not measured";
        }
        if (Double.isNaN(must)) {
            return "no bound";
        }
        return jshim <= goalLimit() ? "goal met" : jshim <= mustLimit() ? "must met" : "MISSED";
    }

    String bounds() {
        if (Double.isNaN(must)) {
            return "-";
        }
        return relative ? "<= %sx / <= %sx".formatted(plain(must), plain(goal))
                : "<= %s / <= %s %s".formatted(plain(must), plain(goal), unit);
    }

    /** A bound as the issue writes it: 1.15, 1.5, 45 (no rounding that would misstate it, no trailing zeros). */
    private static String plain(double bound) {
        return java.math.BigDecimal.valueOf(bound).stripTrailingZeros().toPlainString();
    }
}
