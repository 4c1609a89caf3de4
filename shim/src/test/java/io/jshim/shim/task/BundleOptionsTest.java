package io.jshim.shim.task;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jshim.proto.runc.Options;
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
}
