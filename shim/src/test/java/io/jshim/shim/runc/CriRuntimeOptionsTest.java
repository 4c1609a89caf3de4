package io.jshim.shim.runc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.jshim.proto.runc.Options;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A CRI handler's options table, as containerd's CRI plugin sends it to a runtime type other than runc.v2. */
class CriRuntimeOptionsTest {
    /** runtimeoptions.v1.Options {type_url = 1, config_path = 2, config_body = 3}, encoded by hand. */
    private static Any criOptions(String body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeString(1, "io.containerd.jshim.v2");
        out.writeString(2, "");
        out.writeBytes(3, ByteString.copyFromUtf8(body));
        out.flush();
        return Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").setValue(ByteString.copyFrom(bytes.toByteArray()))
                .build();
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
                .setValue(ByteString.copyFrom(new byte[] {0x1a, 0x7f})).build();
        assertThrows(IllegalArgumentException.class, () -> RuncOptionsParser.parse(garbage));
    }
}
