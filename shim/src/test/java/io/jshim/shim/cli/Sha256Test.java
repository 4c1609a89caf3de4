package io.jshim.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** jshim's SHA-256 against the JDK's: the shim's socket address must stay byte-identical to containerd's. */
class Sha256Test {
    private static String jdk(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    @Test
    void knownVectors() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.hex(new byte[0]));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Sha256.hex("abc".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                Sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void everyLengthUpTo200AgreesWithMessageDigest() throws Exception {
        Random random = new Random(20261206);
        for (int length = 0; length <= 200; length++) {
            for (int round = 0; round < 20; round++) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                assertEquals(jdk(data), Sha256.hex(data), "length " + length);
            }
        }
    }

    @Test
    void largeInputsAgreeWithMessageDigest() throws Exception {
        Random random = new Random(7);
        for (int length : new int[] {1 << 16, (1 << 20) + 55, 3_000_001}) {
            byte[] data = new byte[length];
            random.nextBytes(data);
            assertEquals(jdk(data), Sha256.hex(data), "length " + length);
        }
        assertEquals(jdk(new byte[1_000_000]), Sha256.hex(new byte[1_000_000]));
    }

    @Test
    void aShimAddressIsContainerdsHash() throws Exception {
        String joined = "/run/containerd/containerd.sock.ttrpc/k8s.io/5b1f0e3c9d";
        assertEquals("unix:///run/containerd/s/" + jdk(joined.getBytes(StandardCharsets.UTF_8)),
                ShimAddress.address(java.nio.file.Path.of("/run/containerd/s"), "/run/containerd/containerd.sock.ttrpc",
                        "k8s.io", "5b1f0e3c9d"));
        assertEquals(jdk("ünïcödé/ns/grp".getBytes(StandardCharsets.UTF_8)), ShimAddress.sha256("ünïcödé/ns/grp"));
    }
}
