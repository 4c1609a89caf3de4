package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Build check: no source file of any module (main or test) starts processes behind the reaper's
 * back. The JDK's process API waits on its own children, and our waitpid(-1) reaper steals their
 * statuses (the JDK then reports exit code 0), so every process must start through {@link Reaper}.
 * Comments are ignored (the rule may be explained in them); code and string literals are not.
 */
class NoProcessBuilderTest {
    private static final Pattern PROCESS_BUILDER = Pattern.compile("\\bProcessBuilder\\b");
    private static final Pattern RUNTIME_EXEC = Pattern.compile(
            "\\bRuntime\\s*\\.\\s*getRuntime\\s*\\(\\s*\\)\\s*\\.\\s*exec\\s*\\(|\\bRuntime\\s+\\w+\\s*=[\\s\\S]*?\\.\\s*exec\\s*\\(");

    @Test
    void noModuleUsesProcessBuilderOrRuntimeExec() throws IOException {
        Path moduleDir = Path.of("").toAbsolutePath();
        Path repo = moduleDir.getParent();
        Path self = moduleDir.resolve("src/test/java/io/jshim/reaper/NoProcessBuilderTest.java");
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(repo)) {
            for (Path module : modules.filter(m -> Files.isDirectory(m.resolve("src"))).toList()) {
                try (Stream<Path> files = Files.walk(module.resolve("src"))) {
                    files.filter(f -> f.toString().endsWith(".java") && Files.isRegularFile(f))
                            .filter(f -> !f.toAbsolutePath().equals(self))
                            .forEach(sources::add);
                }
            }
        }
        assertTrue(sources.stream().anyMatch(p -> p.endsWith("Reaper.java")), "found the sources under " + repo);
        List<String> offenders = new ArrayList<>();
        for (Path source : sources) {
            String violation = violation(Files.readString(source));
            if (violation != null) {
                offenders.add(repo.relativize(source) + ": " + violation);
            }
        }
        assertEquals(List.of(), offenders, "start processes with io.jshim.reaper.Reaper.spawn / Monitor.run");
    }

    @Test
    void detectorFindsUsesAndIgnoresComments() {
        assertEquals("ProcessBuilder", violation("class A { void f() { new ProcessBuilder(\"ls\").start(); } }"));
        assertEquals("ProcessBuilder", violation("import java.lang.ProcessBuilder;"));
        assertEquals("Runtime.exec", violation("class A { void f() throws Exception { Runtime.getRuntime().exec(\"ls\"); } }"));
        assertEquals("Runtime.exec", violation("Runtime rt = Runtime.getRuntime();\n rt.exec(new String[]{\"ls\"});"));
        assertEquals(null, violation("// never use ProcessBuilder\n/* nor Runtime.getRuntime().exec(x) */ class A {}"));
        assertEquals(null, violation("/** {@link ProcessBuilder} is banned */ class A { String s = \"// \"; }"));
        assertEquals(null, violation("class MyProcessBuilderFactory { void exec() {} }"));
        assertEquals("ProcessBuilder", violation("class A { String s = \"/*\"; ProcessBuilder b; }"));
        assertFalse(stripComments("a // b\nc").contains("b"));
        assertEquals("x = \"\"\"\n  // kept\n  \"\"\";", stripComments("x = \"\"\"\n  // kept\n  \"\"\";"));
    }

    /** The rule a source breaks, or null. */
    static String violation(String source) {
        String code = stripComments(source);
        if (PROCESS_BUILDER.matcher(code).find()) {
            return "ProcessBuilder";
        }
        if (RUNTIME_EXEC.matcher(code).find()) {
            return "Runtime.exec";
        }
        return null;
    }

    /** Java source without its comments; string, text-block and char literals are kept. */
    static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                while (end > 0 && s.charAt(end - 1) == '\\') {
                    end = s.indexOf("\"\"\"", end + 1);
                }
                end = end < 0 ? n : end + 3;
                out.append(s, i, end);
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && s.charAt(j) != c && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(n, j + 1);
                out.append(s, i, j);
                i = j;
            } else if (s.startsWith("//", i)) {
                int end = s.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
