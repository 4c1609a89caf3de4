package io.jshim.protogen;

/** Java source text with indentation: {@link #open} a block, {@link #close} it. */
final class Code {
    private final StringBuilder out = new StringBuilder();
    private int indent;

    Code line(String text) {
        if (!text.isEmpty()) {
            out.append("    ".repeat(indent)).append(text);
        }
        out.append('\n');
        return this;
    }

    Code open(String text) {
        line(text + " {");
        indent++;
        return this;
    }

    Code close() {
        indent--;
        return line("}");
    }

    Code close(String suffix) {
        indent--;
        return line("}" + suffix);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
