package io.jshim.shim.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.runc.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleOptionsTest {
    @TempDir
    Path bundle;

    @Test
    void noOptionsAreWrittenAsAnEmptyObjectAndReadBack() throws Exception {
        Bundle.writeOptions(bundle, Options.getDefaultInstance());
        assertEquals("{}", Files.readString(bundle.resolve("options.json")));
        assertEquals(Options.getDefaultInstance(), Bundle.readOptions(bundle));
    }

    @Test
    void optionsRoundTripThroughTheirJson() throws Exception {
        Options options = Options.newBuilder().setBinaryName("/usr/sbin/runc").setRoot("/run/other")
                .setSystemdCgroup(true).build();
        Bundle.writeOptions(bundle, options);
        String json = Files.readString(bundle.resolve("options.json"));
        assertEquals("{\"binary_name\":\"/usr/sbin/runc\",\"root\":\"/run/other\",\"systemd_cgroup\":true}", json);
        assertEquals(options, Bundle.readOptions(bundle));
    }

    @Test
    void anEmptyObjectWrittenByAnotherShimIsNoOptions() throws Exception {
        Files.writeString(bundle.resolve("options.json"), " {} \n");
        assertEquals(Options.getDefaultInstance(), Bundle.readOptions(bundle));
    }

    @Test
    void noFileIsNoOptions() throws Exception {
        assertEquals(Options.getDefaultInstance(), Bundle.readOptions(bundle));
    }

    @Test
    void malformedOptionsAreAnErrorNamingTheFile() throws Exception {
        Files.writeString(bundle.resolve("options.json"), "{\"root\": ");
        IOException e = assertThrows(IOException.class, () -> Bundle.readOptions(bundle));
        assertTrue(e.getMessage().contains(bundle.resolve("options.json").toString()), e.getMessage());
        Files.writeString(bundle.resolve("options.json"), "{\"systemd_cgroup\": \"maybe\"}");
        e = assertThrows(IOException.class, () -> Bundle.readOptions(bundle));
        assertTrue(e.getMessage().startsWith("malformed runtime options " + bundle.resolve("options.json")), e.getMessage());
    }

    @Test
    void unreadableOptionsAreAnErrorNamingTheFile() throws Exception {
        Files.createDirectory(bundle.resolve("options.json")); // read(2) fails with EISDIR, even for root
        IOException e = assertThrows(IOException.class, () -> Bundle.readOptions(bundle));
        assertTrue(e.getMessage().startsWith("cannot read the runtime options " + bundle.resolve("options.json")),
                e.getMessage());
    }
}
