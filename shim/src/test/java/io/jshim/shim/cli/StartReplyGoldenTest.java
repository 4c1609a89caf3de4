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

    /** The socket path alone: what containerd 2.x dials for a gRPC shim. */
    static final String PATH = ADDRESS.substring("unix://".length());

    /** BootstrapResult by hand: 08 version, 12 len address, 1a len protocol (fields 1, 2, 3). */
    private static byte[] bootstrapResult(int version, String address, String protocol) {
        byte[] a = address.getBytes(StandardCharsets.US_ASCII);
        byte[] p = protocol.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x08);
        b.write(version);
        b.write(0x12);
        b.write(a.length); // 89 or 82 < 128: one varint byte
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
    void grpcWithoutBootstrapIsTheVersion3JsonOfContainerd20To22WithTheBarePath() throws Exception {
        String golden = "{\"version\":3,\"address\":\"" + PATH + "\",\"protocol\":\"grpc\"}";
        assertArrayEquals(golden.getBytes(StandardCharsets.US_ASCII), reply(Protocol.GRPC, null));
    }

    @Test
    void ttrpcWithBootstrapIsABootstrapResultVersion3() throws Exception {
        byte[] out = reply(Protocol.TTRPC, PARAMS);
        assertEquals("0803125975" + HexFormat.of().formatHex("nix:///run/containerd/s/".getBytes()),
                HexFormat.of().formatHex(out).substring(0, 10 + 2 * 24));
        assertArrayEquals(bootstrapResult(3, ADDRESS, "ttrpc"), out);
        BootstrapResult r = BootstrapResult.parseFrom(out);
        assertEquals(3, r.getVersion());
        assertEquals("ttrpc", r.getProtocol());
    }

    @Test
    void theTtrpcVersionMayBeHeldAt2AndATypoIsAnError() {
        assertEquals(3, Protocol.ttrpcVersion(null));
        assertEquals(3, Protocol.ttrpcVersion(""));
        assertEquals(2, Protocol.ttrpcVersion("2"));
        assertEquals(3, Protocol.ttrpcVersion(" 3 "));
        assertThrows(IllegalArgumentException.class, () -> Protocol.ttrpcVersion("4"));
    }

    @Test
    void grpcWithBootstrapIsABootstrapResultVersion3WithTheBarePath() throws Exception {
        byte[] out = reply(Protocol.GRPC, PARAMS);
        assertArrayEquals(bootstrapResult(3, PATH, "grpc"), out);
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
