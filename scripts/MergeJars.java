import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/**
 * Merges the shim's jars into one stored (uncompressed) jar and puts native libraries beside it; run by install.sh
 * as {@code java MergeJars.java OUT.jar NATIVE_DIR JAR...}.
 *
 * <p>Why: a JVM looking for a class opens the class path's jars in order until one has it; reading 49 central
 * directories slowed every cold daemon (docs/performance.md). Stored entries need no inflating at class load. Rules: a class found in
 * two jars stops the merge (the class path's order would have decided, silently); service files are
 * concatenated; module descriptors (the merged jar is on the class path), versioned module-infos, signatures,
 * INDEX.LIST (it would send lookups to jars no longer there) and Maven metadata are left out; other resources:
 * the first jar's copy wins, as on the class path. {@code META-INF/native/*.so} go to NATIVE_DIR, where
 * java.library.path finds them, so Netty loads its epoll library in place instead of copying it out of the jar
 * into /tmp at every start.
 */
public final class MergeJars {
    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: MergeJars OUT.jar NATIVE_DIR JAR...");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Path nativeDir = Path.of(args[1]);
        Files.createDirectories(nativeDir);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        Map<String, String> classOrigin = new TreeMap<>();
        Map<String, StringBuilder> services = new TreeMap<>();
        List<String> clashes = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            try (JarFile jar = new JarFile(args[i], false)) {
                for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator) {
                    String name = e.getName();
                    if (e.isDirectory() || leftOut(name)) {
                        continue;
                    }
                    byte[] bytes = jar.getInputStream(e).readAllBytes();
                    if (name.startsWith("META-INF/services/")) {
                        services.computeIfAbsent(name, n -> new StringBuilder())
                                .append(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)).append('\n');
                    } else if (name.startsWith("META-INF/native/")) {
                        Files.write(nativeDir.resolve(name.substring(name.lastIndexOf('/') + 1)), bytes);
                    } else if (name.endsWith(".class")) {
                        String first = classOrigin.putIfAbsent(name, args[i]);
                        if (first != null) {
                            clashes.add(name + " in " + first + " and " + args[i]);
                        }
                        entries.putIfAbsent(name, bytes);
                    } else {
                        entries.putIfAbsent(name, bytes);
                    }
                }
            }
        }
        if (!clashes.isEmpty()) {
            System.err.println("install: classes in more than one jar, not merged:");
            clashes.stream().limit(20).forEach(c -> System.err.println("  " + c));
            System.exit(1);
        }
        services.forEach((name, text) -> entries.put(name, text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (OutputStream file = Files.newOutputStream(tmp); JarOutputStream jar = new JarOutputStream(file)) {
            jar.setMethod(ZipEntry.STORED);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setSize(e.getValue().length);
                entry.setCompressedSize(e.getValue().length);
                entry.setCrc(crc.getValue());
                entry.setTime(0);
                jar.putNextEntry(entry);
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.println("merged " + (args.length - 2) + " jars into " + out + " (" + entries.size() + " entries)");
    }

    private static boolean leftOut(String name) {
        return name.equals("module-info.class")
                || name.startsWith("META-INF/versions/")
                || name.startsWith("META-INF/maven/")
                || name.equals("META-INF/INDEX.LIST")
                || name.equals("META-INF/MANIFEST.MF")
                || name.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)");
    }
}
