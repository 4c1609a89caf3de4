package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jshim.proto.bootstrap.BootstrapParams;
import io.jshim.proto.bootstrap.BootstrapResult;
import io.jshim.shim.face.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The exact bytes {@code start} prints, for each protocol and each containerd generation (containerd runtime/v2/binary.go):
 * what containerd's parseStartResponse reads. Golden values are written out by hand, not computed by the code
 * under test.
 */
class StartReplyGoldenTest {
    static final String ADDRESS = "unix:///run/containerd/s/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static final BootstrapParams PARAMS = BootstrapParams.newBuilder().setInstanceId("c1").setNamespace("k8s.io").build();

    private static byte[] reply(Protocol protocol, BootstrapParams params) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StartCommand.reply(new PrintStream(bytes), protocol, params, ADDRESS);
        return bytes.toByteArray();
    }

    /** BootstrapResult by hand: 08 version, 12 len address, 1a len protocol (fields 1, 2, 3). */
    private static byte[] bootstrapResult(int version, String protocol) {
        byte[] a = ADDRESS.getBytes(StandardCharsets.US_ASCII);
        byte[] p = protocol.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x08);
        b.write(version);
        b.write(0x12);
        b.write(a.length); // 89 < 128: one varint byte
        b.writeBytes(a);
        b.write(0x1a);
        b.write(p.length);
        b.writeBytes(p);
        return b.toByteArray();
    }

    @Test
    void ttrpcWithoutBootstrapIsTheBareAddressWithNoNewline() throws Exception {
        assertArrayEquals(ADDRESS.getBytes(StandardCharsets.US_ASCII), reply(Protocol.TTRPC, null));
    }

    @Test
    void grpcWithoutBootstrapIsTheVersion3JsonOfContainerd20To22() throws Exception {
        String golden = "{\"version\":3,\"address\":\"" + ADDRESS + "\",\"protocol\":\"grpc\"}";
        assertArrayEquals(golden.getBytes(StandardCharsets.US_ASCII), reply(Protocol.GRPC, null));
    }

    @Test
    void ttrpcWithBootstrapIsABootstrapResultVersion2() throws Exception {
        byte[] out = reply(Protocol.TTRPC, PARAMS);
        assertEquals("0802125975" + HexFormat.of().formatHex("nix:///run/containerd/s/".getBytes()),
                HexFormat.of().formatHex(out).substring(0, 10 + 2 * 24));
        assertArrayEquals(bootstrapResult(2, "ttrpc"), out);
        BootstrapResult r = BootstrapResult.parseFrom(out);
        assertEquals(2, r.getVersion());
        assertEquals("ttrpc", r.getProtocol());
    }

    @Test
    void grpcWithBootstrapIsABootstrapResultVersion3() throws Exception {
        byte[] out = reply(Protocol.GRPC, PARAMS);
        assertArrayEquals(bootstrapResult(3, "grpc"), out);
        assertEquals("1a0467727063", HexFormat.of().formatHex(out).substring(2 * (out.length - 6)));
    }

    @Test
    void theProtocolIsTtrpcUnlessGrpcIsAskedForAndATypoIsAnError() {
        assertEquals(Protocol.TTRPC, Protocol.parse(null));
        assertEquals(Protocol.TTRPC, Protocol.parse(""));
        assertEquals(Protocol.GRPC, Protocol.parse("GRPC"));
        assertEquals(Protocol.TTRPC, Protocol.parse("ttrpc"));
        assertThrows(IllegalArgumentException.class, () -> Protocol.parse("grcp"));
    }
}
