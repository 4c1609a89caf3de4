package io.jshim.proto.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The generated classes against protobuf-java, the reference: for every message type of every .proto (the real
 * schemas and src/test/proto's every-kind schema), random messages encoded by protobuf-java are decoded by jshim's
 * class and encoded again to the very same bytes, which protobuf-java decodes to an equal message.
 */
class WireCompatTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    static final int ROUNDS = FULL ? 5_000 : 200;

    @Test
    void everyFileAndMessageIsCovered() {
        List<Descriptor> all = Schemas.allMessages();
        // the real schemas' files, and the test schema with every kind; a lost descriptor set would shrink this
        assertTrue(Schemas.FILES.containsKey("containerd/task/v2/shim.proto"), Schemas.FILES.keySet()::toString);
        assertTrue(Schemas.FILES.containsKey("cgroups/v1/metrics.proto"), Schemas.FILES.keySet()::toString);
        assertTrue(Schemas.FILES.containsKey("jshim/testing/alltypes.proto"), Schemas.FILES.keySet()::toString);
        assertTrue(all.size() > 80, () -> all.size() + " message types");
        for (Descriptor d : all) {
            Schemas.generatedClass(d); // throws when a message has no class
        }
    }

    @TestFactory
    Stream<DynamicTest> randomMessagesRoundTripByteForByte() {
        return Schemas.allMessages().stream().map(d -> DynamicTest.dynamicTest(d.getFullName(), () -> roundTrips(d)));
    }

    private static void roundTrips(Descriptor d) throws Exception {
        ProtoParser<ProtoMessage> parser = Schemas.parser(d);
        RandomMessages random = new RandomMessages(d.getFullName().hashCode());
        DynamicMessage previous = null;
        ProtoMessage previousOurs = null;
        for (int i = 0; i < ROUNDS; i++) {
            DynamicMessage ref = random.message(d);
            byte[] bytes = ref.toByteArray();
            String what = d.getFullName() + " round " + i + ": " + HexFormat.of().formatHex(bytes) + "\n" + ref;

            ProtoMessage ours = parser.parseFrom(bytes);
            byte[] again = ours.toByteArray();
            assertArrayEquals(bytes, again, what);
            assertEquals(again.length, ours.getSerializedSize(), what);
            assertEquals(ref, DynamicMessage.parseFrom(d, again), what);
            assertEquals(d.getFullName(), ours.typeName());

            ProtoMessage twice = parser.parseFrom(bytes);
            assertEquals(ours, twice, what);
            assertEquals(ours.hashCode(), twice.hashCode(), what);
            ProtoMessage rebuilt = Schemas.rebuild(ours);
            assertEquals(ours, rebuilt, what);
            assertEquals(ours.hashCode(), rebuilt.hashCode(), what);
            assertArrayEquals(bytes, rebuilt.toByteArray(), what);
            assertEquals(ours.getClass(), ours.getClass().getMethod("getDefaultInstanceForType").invoke(ours).getClass());

            // equals can fail: a message protobuf-java calls different is different for ours too
            if (previous != null && !previous.equals(ref)) {
                assertNotEquals(previousOurs, ours, what);
            }
            ProtoText.toString(ours); // never throws, whatever the values
            previous = ref;
            previousOurs = ours;
        }
        assertEquals(Schemas.defaultInstance(d), parser.parseFrom(new byte[0]));
        assertEquals(0, Schemas.defaultInstance(d).getSerializedSize());
    }

    /** An offset and length into a larger array: the bytes around are not read. */
    @Test
    void parsesASliceOfALargerArray() throws Exception {
        Descriptor d = Schemas.message("jshim.testing.Scalars");
        RandomMessages random = new RandomMessages(7);
        for (int i = 0; i < 50; i++) {
            byte[] bytes = random.message(d).toByteArray();
            byte[] padded = new byte[bytes.length + 20];
            java.util.Arrays.fill(padded, (byte) 0xFF); // 0xFF around: a truncated varint if read
            System.arraycopy(bytes, 0, padded, 7, bytes.length);
            assertArrayEquals(bytes, Schemas.parser(d).parseFrom(padded, 7, bytes.length).toByteArray());
        }
    }
}
