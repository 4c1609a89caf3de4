package io.jshim.proto.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.jshim.proto.cgroups.v1.CPUUsage;
import io.jshim.proto.testing.Node;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Bytes that protobuf-java (the reference) decodes, jshim's classes decode to the same message, less the unknown
 * fields; bytes it rejects, they reject with {@link InvalidProtoException} and never another exception.
 */
class DecodeRobustnessTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    static final int FUZZ_CASES = FULL ? 100_000 : 2_000;

    /** The reference's verdict on the bytes, and ours: both reject, or both accept the same fields. */
    static void sameVerdict(Descriptor d, byte[] bytes) {
        String what = d.getFullName() + " " + HexFormat.of().formatHex(bytes);
        Message ref;
        try {
            // protobuf-java's fast path (taken when 10 bytes are buffered) accepts a 10-byte varint whose last
            // byte still has the continuation bit; its slow path, Go's decoder and ours reject it. A 1-byte buffer
            // keeps the reference on its slow path.
            CodedInputStream in = CodedInputStream.newInstance(new java.io.ByteArrayInputStream(bytes), 1);
            DynamicMessage.Builder b = DynamicMessage.newBuilder(d).mergeFrom(in);
            in.checkLastTagWas(0);
            ref = Schemas.withoutUnknown(b.build());
        } catch (InvalidProtocolBufferException e) {
            ref = null;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        ProtoMessage ours;
        try {
            ours = Schemas.parser(d).parseFrom(bytes);
        } catch (InvalidProtoException e) {
            if (ref != null && !lengthBeyond32Bits(e)) {
                fail("rejected (" + e.getMessage() + ") what protobuf-java accepts: " + what + "\n" + ref);
            }
            return;
        } catch (RuntimeException | StackOverflowError e) {
            throw new AssertionError("not an InvalidProtoException: " + what, e);
        }
        if (ref == null) {
            fail("accepted what protobuf-java rejects: " + what + "\n" + ProtoText.toString(ours));
        }
        try {
            assertEquals(ref, DynamicMessage.parseFrom(d, ours.toByteArray()), what);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("ours re-encoded is not protobuf: " + what, e);
        }
    }

    /**
     * protobuf-java reads a length as a 32-bit varint, dropping the bits above (a length of 2^33 is 0 to it); Go's
     * decoder and ours take the 64-bit value and reject it as beyond the message.
     */
    private static boolean lengthBeyond32Bits(InvalidProtoException e) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^length (-?\\d+) beyond").matcher(e.getMessage());
        return m.find() && Long.compareUnsigned(Long.parseLong(m.group(1)), 0xFFFF_FFFFL) > 0;
    }

    @Test
    void unknownFieldsOfEveryWireTypeAreSkipped() throws IOException {
        Random rnd = new Random(1);
        for (Descriptor d : Schemas.allMessages()) {
            RandomMessages random = new RandomMessages(d.getFullName().hashCode() + 1);
            int unused = d.getFields().stream().mapToInt(FieldDescriptor::getNumber).max().orElse(0) + 1;
            for (int i = 0; i < 20; i++) {
                List<byte[]> fields = topLevelFields(random.message(d).toByteArray());
                for (int k = 0; k < 4; k++) {
                    fields.add(rnd.nextInt(fields.size() + 1), unknownField(rnd, unused + rnd.nextInt(1000)));
                }
                byte[] bytes = concat(fields);
                sameVerdict(d, bytes);
                // and nothing of the unknown survives: ours re-encodes the known fields only
                assertArrayEquals(Schemas.withoutUnknown(DynamicMessage.parseFrom(d, bytes)).toByteArray(),
                        Schemas.parser(d).parseFrom(bytes).toByteArray());
            }
        }
    }

    @Test
    void aKnownFieldWithAnotherWireTypeIsSkippedAsUnknown() throws IOException {
        Random rnd = new Random(2);
        for (Descriptor d : Schemas.allMessages()) {
            for (FieldDescriptor f : d.getFields()) {
                int expected = f.isPackable() ? -1 : f.getLiteType().getWireType();
                for (int wire : new int[] {0, 1, 2, 5}) {
                    if (wire == expected || (f.isPackable() && (wire == 2 || wire == f.getLiteType().getWireType()))) {
                        continue;
                    }
                    byte[] bytes = concat(List.of(payload(rnd, f.getNumber(), wire)));
                    sameVerdict(d, bytes);
                    assertEquals(0, Schemas.parser(d).parseFrom(bytes).getSerializedSize(), d.getFullName() + "." + f.getName());
                }
            }
        }
    }

    @Test
    void repeatedUint64PackedUnpackedOrMixed() throws IOException {
        // cgroups v1 per_cpu: runc writes it packed, older writers unpacked; a reader must take both, even mixed
        long[] values = {0, 1, 127, 128, 1L << 35, -1L, Long.MIN_VALUE};
        ByteArrayOutputStream unpacked = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(unpacked);
        for (long v : values) {
            out.writeUInt64(4, v);
        }
        out.flush();
        assertEquals(List.of(0L, 1L, 127L, 128L, 1L << 35, -1L, Long.MIN_VALUE),
                CPUUsage.parseFrom(unpacked.toByteArray()).getPerCpuList());

        CPUUsage packed = CPUUsage.newBuilder().addPerCpu(5L).addPerCpu(-1L).setTotal(9).build();
        byte[] mixed = concat(List.of(packed.toByteArray(), unpacked.toByteArray(), packed.toByteArray()));
        CPUUsage both = CPUUsage.parseFrom(mixed);
        assertEquals(List.of(5L, -1L, 0L, 1L, 127L, 128L, 1L << 35, -1L, Long.MIN_VALUE, 5L, -1L), both.getPerCpuList());
        assertEquals(9, both.getTotal());
        Descriptor d = Schemas.message("io.containerd.cgroups.v1.CPUUsage");
        sameVerdict(d, mixed);
        // written packed, as protobuf-java writes proto3's repeated scalars
        assertArrayEquals(DynamicMessage.parseFrom(d, mixed).toByteArray(), both.toByteArray());
        // an empty packed run adds nothing
        assertEquals(List.of(), CPUUsage.parseFrom(new byte[] {0x22, 0x00}).getPerCpuList());
    }

    @Test
    void truncatedAtEveryByte() throws IOException {
        for (Descriptor d : Schemas.allMessages()) {
            byte[] bytes = new RandomMessages(d.getFullName().hashCode() + 3).message(d).toByteArray();
            for (int n = 0; n < bytes.length; n++) {
                sameVerdict(d, java.util.Arrays.copyOf(bytes, n));
            }
        }
    }

    @Test
    void malformedInputIsInvalidProto() {
        ProtoParser<ProtoMessage> leaf = Schemas.parser(Schemas.message("jshim.testing.Leaf"));
        ProtoParser<ProtoMessage> scalars = Schemas.parser(Schemas.message("jshim.testing.Scalars"));
        byte[][] bad = {
                {0x0a, 0x05, 'a', 'b'},                     // string length past the end
                {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 'a'}, // length 2^32-1 (negative as int)
                {0x0a, (byte) 0x80},                         // length varint cut
                {0x10, (byte) 0x80, (byte) 0x80},            // uint64 varint cut
                {0x10, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01}, // 11-byte varint: overflow
                {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                        (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}, // tag varint overflow
                {0x00, 0x01},                                // field number 0
                {0x0e},                                      // wire type 6
                {0x0f},                                      // wire type 7
                {0x1c},                                      // end-group with no group
                {0x1b, 0x08, 0x01},                          // group never ended
                {0x1b, 0x24},                                // group ended by another field's end
                {0x1d, 0x01, 0x02},                          // fixed32 of an unknown field cut
                {0x19, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07}, // fixed64 cut
        };
        for (byte[] b : bad) {
            assertThrows(InvalidProtoException.class, () -> leaf.parseFrom(b), HexFormat.of().formatHex(b));
            sameVerdict(Schemas.message("jshim.testing.Leaf"), b);
        }
        byte[][] badScalars = {
                {0x3d, 0x01, 0x02, 0x03},                    // fixed32 field 7 cut
                {0x41, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07}, // fixed64 field 8 cut
                {(byte) 0x8a, 0x01, 0x03, 0x0a, 0x05, 'x'}, // nested Leaf whose string runs past the Leaf's end
                {0x65, 0x00, 0x00},                          // float cut
        };
        for (byte[] b : badScalars) {
            assertThrows(InvalidProtoException.class, () -> scalars.parseFrom(b), HexFormat.of().formatHex(b));
            sameVerdict(Schemas.message("jshim.testing.Scalars"), b);
        }
    }

    @Test
    void anOffsetAndLengthOutsideTheArrayIsTheCallersBug() {
        byte[] b = new byte[8];
        for (int[] ol : new int[][] {{-1, 2}, {0, 9}, {9, 0}, {4, -1}, {Integer.MAX_VALUE, 10}, {4, Integer.MAX_VALUE}}) {
            assertThrows(IndexOutOfBoundsException.class, () -> Leaf(b, ol[0], ol[1]), ol[0] + "+" + ol[1]);
        }
    }

    private static void Leaf(byte[] b, int offset, int length) throws InvalidProtoException {
        io.jshim.proto.testing.Leaf.parseFrom(b, offset, length);
    }

    @Test
    void invalidUtf8InAStringIsInvalidProto() {
        Descriptor d = Schemas.message("jshim.testing.Leaf");
        String[] bad = {"80", "c0 80", "c1 bf", "e0 80 80", "ed a0 80", "ed bf bf", "f0 80 80 80", "f4 90 80 80", "f5 80 80 80",
                "ff", "e4 b8", "f0 9f 98", "61 c3", "c3 28", "e2 28 a1", "f0 28 8c bc"};
        for (String hex : bad) {
            byte[] s = HexFormat.ofDelimiter(" ").parseHex(hex);
            byte[] bytes = concat(List.of(new byte[] {0x0a, (byte) s.length}, s));
            assertThrows(InvalidProtoException.class, () -> Schemas.parser(d).parseFrom(bytes), hex);
            sameVerdict(d, bytes);
            assertTrue(!ProtoReader.validUtf8(s, 0, s.length), hex);
        }
        String[] good = {"", "61", "c2 80", "df bf", "e0 a0 80", "ef bf bf", "ed 9f bf", "ee 80 80", "f0 90 80 80", "f4 8f bf bf",
                "00", "e4 b8 ad f0 9f 98 80"};
        for (String hex : good) {
            byte[] s = HexFormat.ofDelimiter(" ").parseHex(hex);
            assertTrue(ProtoReader.validUtf8(s, 0, s.length), hex);
            sameVerdict(d, concat(List.of(new byte[] {0x0a, (byte) s.length}, s)));
        }
        // bytes fields take anything
        assertEquals(1, assertDoesNotThrow(() -> Schemas.parser(Schemas.message("jshim.testing.Scalars"))
                .parseFrom(new byte[] {0x7a, 0x01, (byte) 0xff})).toByteArray().length - 2);
    }

    private static <T> T assertDoesNotThrow(org.junit.jupiter.api.function.ThrowingSupplier<T> s) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(s);
    }

    @Test
    void nestingDeeperThan100IsInvalidProto() throws IOException {
        Descriptor d = Schemas.message("jshim.testing.Node");
        assertEquals(100, depth(Node.parseFrom(nested(100))));
        sameVerdict(d, nested(100));
        for (int n : new int[] {101, 102, 3_000}) {
            byte[] bytes = nested(n);
            InvalidProtoException e = assertThrows(InvalidProtoException.class, () -> Node.parseFrom(bytes));
            assertTrue(e.getMessage().contains("deeper than 100"), e.getMessage());
            sameVerdict(d, bytes);
        }
        // groups in unknown fields nest too: bounded likewise, never a StackOverflowError
        byte[] groups = new byte[200_000];
        java.util.Arrays.fill(groups, (byte) 0x23); // start-group of field 4, over and over
        assertThrows(InvalidProtoException.class, () -> Node.parseFrom(groups));
    }

    private static int depth(Node n) {
        int d = 0;
        while (n.hasChild()) {
            n = n.getChild();
            d++;
        }
        return d;
    }

    /** A Node with n levels of children below it. */
    private static byte[] nested(int n) {
        byte[] inner = Node.newBuilder().setName("leaf").build().toByteArray();
        for (int i = 0; i < n; i++) {
            inner = concat(List.of(lengthPrefix(1, inner.length), inner));
        }
        return inner;
    }

    private static byte[] lengthPrefix(int field, int length) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(b);
        try {
            out.writeTag(field, 2);
            out.writeUInt32NoTag(length);
            out.flush();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    @Test
    void fuzzRandomAndMutatedBytes() throws IOException {
        Random rnd = new Random(FULL ? System.nanoTime() : 42);
        List<Descriptor> all = Schemas.allMessages();
        for (int i = 0; i < FUZZ_CASES; i++) {
            Descriptor d = all.get(rnd.nextInt(all.size()));
            byte[] bytes;
            if (rnd.nextInt(4) == 0) {
                bytes = new byte[rnd.nextInt(40)];
                rnd.nextBytes(bytes);
            } else {
                bytes = new RandomMessages(rnd.nextLong()).message(d).toByteArray();
                int edits = 1 + rnd.nextInt(4);
                for (int k = 0; k < edits && bytes.length > 0; k++) {
                    int at = rnd.nextInt(bytes.length);
                    switch (rnd.nextInt(4)) {
                        case 0 -> bytes[at] = (byte) rnd.nextInt(256);
                        case 1 -> bytes[at] ^= (byte) (1 << rnd.nextInt(8));
                        case 2 -> bytes = java.util.Arrays.copyOf(bytes, at);                    // cut
                        default -> bytes[at] = (byte) (rnd.nextBoolean() ? 0xFF : bytes[at] + 1); // lengths off by one
                    }
                }
            }
            sameVerdict(d, bytes);
        }
    }

    // ---- encoding helpers (protobuf-java's CodedOutputStream: the reference writes these bytes) ----

    private static List<byte[]> topLevelFields(byte[] message) throws IOException {
        List<byte[]> fields = new ArrayList<>();
        CodedInputStream in = CodedInputStream.newInstance(message);
        int start = 0;
        for (int tag; (tag = in.readTag()) != 0; ) {
            in.skipField(tag);
            fields.add(java.util.Arrays.copyOfRange(message, start, in.getTotalBytesRead()));
            start = in.getTotalBytesRead();
        }
        return fields;
    }

    private static byte[] unknownField(Random rnd, int field) {
        return payload(rnd, field, switch (rnd.nextInt(5)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> 2;
            case 3 -> 5;
            default -> 3;
        });
    }

    /** A field of this number and wire type with a valid payload (3: a group holding a few fields). */
    private static byte[] payload(Random rnd, int field, int wire) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(b);
        try {
            switch (wire) {
                case 0 -> out.writeUInt64(field, rnd.nextLong());
                case 1 -> out.writeFixed64(field, rnd.nextLong());
                case 2 -> out.writeByteArray(field, new byte[] {(byte) 0xff, 0x00, 0x08, (byte) 0x80});
                case 5 -> out.writeFixed32(field, rnd.nextInt());
                default -> {
                    out.writeTag(field, 3);
                    out.writeUInt64(1, 300);
                    out.writeString(2, "in a group");
                    out.writeTag(7, 3);
                    out.writeFixed32(1, 5);
                    out.writeTag(7, 4);
                    out.writeTag(field, 4);
                }
            }
            out.flush();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
