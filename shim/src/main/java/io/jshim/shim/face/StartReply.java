package io.jshim.shim.face;

import io.jshim.proto.bootstrap.BootstrapResult;
import java.nio.charset.StandardCharsets;

/**
 * The bytes {@code start} prints for containerd (containerd runtime/v2/binary.go), by protocol and by what containerd sent
 * on stdin. No trailing newline in any form.
 *
 * <ul>
 *   <li>BootstrapParams on stdin (containerd 2.3+): a protobuf BootstrapResult {version, address, protocol}.
 *   <li>otherwise, ttrpc: the bare address, which containerd 1.6/1.7 require and 2.0–2.2 read as version 2.
 *   <li>otherwise, grpc: the JSON {@code {"version":3,"address":"…","protocol":"grpc"}} of containerd 2.0–2.2
 *       (containerd 1.x cannot use it: gRPC needs containerd 2).
 * </ul>
 */
public final class StartReply {
    private StartReply() {}

    public static byte[] of(Protocol protocol, boolean bootstrapped, String address) {
        if (bootstrapped) {
            return BootstrapResult.newBuilder().setVersion(protocol.version()).setAddress(address)
                    .setProtocol(protocol.wireName()).build().toByteArray();
        }
        if (protocol == Protocol.TTRPC) {
            return address.getBytes(StandardCharsets.UTF_8);
        }
        return ("{\"version\":" + protocol.version() + ",\"address\":\"" + jsonEscape(address)
                + "\",\"protocol\":\"" + protocol.wireName() + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
