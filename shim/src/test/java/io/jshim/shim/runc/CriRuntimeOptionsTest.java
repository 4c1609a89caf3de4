package io.jshim.shim.runc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.ProtoWriter;
import io.jshim.proto.runc.Options;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A CRI handler's options table, as containerd's CRI plugin sends it to a runtime type other than runc.v2. */
class CriRuntimeOptionsTest {
    /** runtimeoptions.v1.Options {type_url = 1, config_path = 2, config_body = 3}, encoded by hand. */
    private static Any criOptions(String body) throws IOException {
        Bytes config = Bytes.copyFromUtf8(body);
        byte[] bytes = new byte[ProtoWriter.sizeString(1, "io.containerd.jshim.v2") + ProtoWriter.sizeBytes(3, config)];
        ProtoWriter out = new ProtoWriter(bytes, 0);
        out.string(1, "io.containerd.jshim.v2"); // config_path (2) empty: proto3 leaves it out
        out.bytes(3, config);
        return Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").setValue(Bytes.wrap(bytes)).build();
    }

    @Test
    void theHandlersTableBecomesRuncOptions() throws IOException {
        Options o = RuncOptionsParser.parse(criOptions("""
                # from [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.jshim.options]
                BinaryName = "/usr/local/sbin/runc"
                Root = '/run/jshim-runc'
                SystemdCgroup = true
                IoUid = 1000
                ShimCgroup = "/pods/shims"
                SomethingNew = "passed over, as containerd does"
                """));
        assertEquals("/usr/local/sbin/runc", o.getBinaryName());
        assertEquals("/run/jshim-runc", o.getRoot());
        assertTrue(o.getSystemdCgroup());
        assertEquals(1000, o.getIoUid());
        assertEquals("/pods/shims", o.getShimCgroup());
    }

    @Test
    void containerd16sEmptyMessageIsDefaultOptions() throws IOException {
        Any empty = Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").build();
        assertEquals(Options.getDefaultInstance(), RuncOptionsParser.parse(empty));
        assertEquals(Options.getDefaultInstance(), RuncOptionsParser.parse(criOptions("")));
    }

    @Test
    void aValueOfTheWrongTypeIsRefusedWithItsKey() throws IOException {
        Any bad = criOptions("SystemdCgroup = \"yes\"\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RuncOptionsParser.parse(bad));
        assertTrue(e.getMessage().contains("SystemdCgroup"), e.getMessage());
        Any garbage = Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options")
                .setValue(Bytes.copyFrom(new byte[] {0x1a, 0x7f})).build();
        assertThrows(IllegalArgumentException.class, () -> RuncOptionsParser.parse(garbage));
    }
}
