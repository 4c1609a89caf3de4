package io.jshim.shim.face;

import io.jshim.proto.bootstrap.BootstrapResult;
import java.nio.charset.StandardCharsets;

/**
 * The bytes {@code start} prints for containerd, by protocol and by what containerd sent on stdin (containerd's
 * core/runtime/v2 parseStartResponse). No trailing newline in any form.
 *
 * <ul>
 *   <li>BootstrapParams on stdin (containerd 2.3+): a protobuf BootstrapResult {version, address, protocol};
 *       version 3 over ttrpc unless {@link Protocol#TTRPC_VERSION_ENV} holds it at 2.
 *   <li>otherwise, ttrpc: the {@code unix://} address, which containerd 1.6/1.7 require and 2.0–2.2 read as
 *       version 2.
 *   <li>otherwise, grpc: the JSON {@code {"version":3,"address":"…","protocol":"grpc"}} of containerd 2.0–2.2.
 * </ul>
 *
 * A gRPC address is the socket's bare path: containerd 2.x dials a gRPC shim with {@code net.Dial("unix", address)}
 * as given (with {@code unix://} in front it looks for a file of that name). It connects, and drops the connection
 * at once (its connection watcher waits for a change from READY on a client that starts IDLE): containerd
 * 2.0-2.3.4 cannot use a gRPC shim, whatever the shim does.
 *
 * <p>scripts/launcher.sh ({@code start_reply}) writes the same ttrpc bytes without a JVM; LauncherFastPathTest
 * compares the two.
 */
public final class StartReply {
    private StartReply() {}

    public static byte[] of(Protocol protocol, boolean bootstrapped, String address) {
        if (protocol == Protocol.GRPC) {
            address = bare(address);
        }
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

    /** The socket path of a {@code unix://} address. */
    static String bare(String address) {
        return address.startsWith("unix://") ? address.substring("unix://".length()) : address;
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
