package io.jshim.proto.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.testing.Color;
import io.jshim.proto.testing.Leaf;
import io.jshim.proto.testing.Names;
import io.jshim.proto.testing.Optionals;
import io.jshim.proto.testing.Repeateds;
import io.jshim.proto.testing.Scalars;
import io.jshim.proto.wkt.Timestamp;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generated classes' API behaves as protobuf-java's: names, presence, open enums, builders, immutability. */
class GeneratedApiTest {

    @Test
    void accessorNamesAreProtocs() throws Exception {
        // protoc --java_out names these getIoUid, getField1A, getOomScoreAdj, getX2Y, getCamelCase, getDoubleUnderscore
        for (String getter : List.of("getIoUid", "getField1A", "getOomScoreAdj", "getX2Y", "getCamelCase", "getDoubleUnderscore")) {
            Names.class.getMethod(getter);
        }
        Names n = Names.newBuilder().setIoUid(-1).setField1A("a").setOomScoreAdj(-1000).build();
        assertEquals(-1000, Names.parseFrom(n.toByteArray()).getOomScoreAdj());
        assertEquals("{\"io_uid\":4294967295,\"field_1a\":\"a\",\"oom_score_adj\":-1000}", ProtoJson.print(n));
    }

    @Test
    void optionalFieldsKeepPresenceOfTheirDefault() throws Exception {
        Optionals present = Optionals.newBuilder().setI32(0).setText("").setFlag(false).setColor(Color.COLOR_UNSPECIFIED)
                .setLeaf(Leaf.getDefaultInstance()).build();
        Optionals back = Optionals.parseFrom(present.toByteArray());
        assertTrue(back.hasI32() && back.hasText() && back.hasFlag() && back.hasColor() && back.hasLeaf());
        assertFalse(back.hasU64() || back.hasData());
        assertNotEquals(Optionals.getDefaultInstance(), back);
        assertEquals(Optionals.getDefaultInstance(), back.toBuilder().clearI32().clearText().clearFlag().clearColor().clearLeaf().build());
        assertTrue(present.getSerializedSize() > 0);
        // a plain proto3 field set to its default is not sent
        assertEquals(0, Scalars.newBuilder().setI32(0).setText("").setColor(Color.COLOR_UNSPECIFIED).build().getSerializedSize());
    }

    @Test
    void enumsAreOpen() throws Exception {
        Scalars s = Scalars.newBuilder().setColorValue(77).build();
        Scalars back = Scalars.parseFrom(s.toByteArray());
        assertEquals(Color.UNRECOGNIZED, back.getColor());
        assertEquals(77, back.getColorValue());
        assertArrayEquals(s.toByteArray(), back.toByteArray());
        assertThrows(IllegalArgumentException.class, () -> Scalars.newBuilder().setColor(Color.UNRECOGNIZED));
        assertEquals(Color.NEGATIVE, Scalars.parseFrom(Scalars.newBuilder().setColor(Color.NEGATIVE).build().toByteArray()).getColor());
        assertEquals(Color.BIG, Color.forNumber(2_000_000));
        assertEquals(null, Color.forNumber(3));
        Repeateds r = Repeateds.newBuilder().addColor(1).addColor(77).addColor(-2).build();
        assertEquals("{\"color\":[\"RED\",77,\"NEGATIVE\"]}", ProtoJson.print(r));
    }

    @Test
    void builtMessagesAreImmutableSnapshots() {
        Repeateds.Builder b = Repeateds.newBuilder().addI32(1).putLabels("k", "v");
        Repeateds first = b.build();
        b.addI32(2).putLabels("k", "w");
        assertEquals(List.of(1), first.getI32List());
        assertEquals(Map.of("k", "v"), first.getLabelsMap());
        assertThrows(UnsupportedOperationException.class, () -> first.getI32List().add(3));
        assertThrows(UnsupportedOperationException.class, () -> first.getLabelsMap().put("x", "y"));
        assertEquals("w", b.build().getLabelsOrThrow("k"));
        assertThrows(IllegalArgumentException.class, () -> first.getLabelsOrThrow("absent"));
        assertThrows(NullPointerException.class, () -> Scalars.newBuilder().setText(null));
        assertThrows(NullPointerException.class, () -> Repeateds.newBuilder().putLabels("k", null));
        assertSame(Scalars.getDefaultInstance(), Scalars.getDefaultInstance().getDefaultInstanceForType());
        assertEquals(Leaf.getDefaultInstance(), Scalars.getDefaultInstance().getLeaf());
        assertFalse(Scalars.getDefaultInstance().hasLeaf());
    }

    /** protobuf's merge: concatenated encodings decode to the merge of the two messages, in protobuf-java and ours. */
    @Test
    void mergeIsProtobufs() throws Exception {
        for (Descriptor d : Schemas.allMessages()) {
            RandomMessages random = new RandomMessages(d.getFullName().hashCode() + 17);
            ProtoParser<ProtoMessage> parser = Schemas.parser(d);
            for (int i = 0; i < 30; i++) {
                DynamicMessage a = random.message(d), b = random.message(d);
                byte[] ab = ByteString.copyFrom(a.toByteArray()).concat(ByteString.copyFrom(b.toByteArray())).toByteArray();
                DynamicMessage merged = a.toBuilder().mergeFrom(b).build();
                ProtoMessage ours = parser.parseFrom(ab);
                assertEquals(merged, DynamicMessage.parseFrom(d, ours.toByteArray()), d.getFullName());
                // and the builder's mergeFrom agrees with the decoder's
                ProtoMessage oa = parser.parseFrom(a.toByteArray()), ob = parser.parseFrom(b.toByteArray());
                Object builder = oa.getClass().getMethod("toBuilder").invoke(oa);
                builder.getClass().getMethod("mergeFrom", oa.getClass()).invoke(builder, ob);
                assertEquals(ours, ((ProtoBuilder<?>) builder).build(), d.getFullName());
            }
        }
    }

    @Test
    void largeValuesAndLongLengths() throws Exception {
        byte[] big = new byte[1 << 20];
        new java.util.Random(3).nextBytes(big);
        String text = "é中😀x".repeat(20_000); // 200,000 bytes of UTF-8: a 3-byte length varint
        Repeateds.Builder rb = Repeateds.newBuilder().addData(Bytes.copyFrom(big)).addText(text);
        for (int i = 0; i < 10_000; i++) {
            rb.addU64((long) i * i * i * 1_000_003L).addI32(-i);
        }
        Repeateds r = rb.build();
        byte[] bytes = r.toByteArray();
        Descriptor d = Schemas.message("jshim.testing.Repeateds");
        assertArrayEquals(DynamicMessage.parseFrom(d, bytes).toByteArray(), bytes);
        assertEquals(r, Repeateds.parseFrom(bytes));
        assertEquals(text, Repeateds.parseFrom(bytes).getText(0));
    }

    @Test
    void loneSurrogatesAreWrittenAsJavaAndProtobufJavaWriteThem() throws Exception {
        // not valid UTF-16, so not encodable: the JDK's encoder and protobuf-java both write '?'
        Descriptor d = Schemas.message("jshim.testing.Leaf");
        for (String s : List.of("\ud800", "a\udc00b", "\ud83d", "x\ud83d\ud83dy", "\udc00\ud800", "😀\ud800")) {
            Leaf ours = Leaf.newBuilder().setName(s).build();
            byte[] ref = DynamicMessage.newBuilder(d).setField(Schemas.field(d, "name"), s).build().toByteArray();
            assertArrayEquals(ref, ours.toByteArray(), s);
            assertEquals(ours.toByteArray().length, ours.getSerializedSize());
        }
    }

    @Test
    void bytesIsAnImmutableValue() {
        byte[] raw = {1, 2, 3, 4, 5};
        Bytes b = Bytes.copyFrom(raw, 1, 3);
        raw[1] = 9;
        assertEquals(3, b.size());
        assertEquals(2, b.byteAt(0));
        byte[] out = b.toByteArray();
        out[0] = 7;
        assertEquals(2, b.byteAt(0));
        assertEquals(Bytes.copyFrom(new byte[] {2, 3, 4}), b);
        assertEquals(Bytes.copyFrom(new byte[] {2, 3, 4}).hashCode(), b.hashCode());
        assertSame(Bytes.EMPTY, Bytes.copyFrom(new byte[0]));
        assertEquals("héllo", Bytes.copyFromUtf8("héllo").toStringUtf8());
        assertTrue(Bytes.EMPTY.isEmpty());
    }

    @Test
    void textFormForLogs() {
        TaskExit exit = TaskExit.newBuilder().setContainerId("c1").setPid(42).setExitStatus(-1)
                .setExitedAt(Timestamp.newBuilder().setSeconds(5)).build();
        assertEquals("containerd.events.TaskExit{container_id: \"c1\", pid: 42, exit_status: 4294967295, "
                + "exited_at: google.protobuf.Timestamp{seconds: 5}}", exit.toString());
        assertEquals("containerd.events.TaskExit{}", TaskExit.getDefaultInstance().toString());
    }

    @Test
    void textFormEscapesWhatCouldSplitOrForgeALogLine() {
        Repeateds r = Repeateds.newBuilder().addText("a\nINFO forged").addText("q\"").addU32(-1)
                .putLabels("k\r", "v\t").build();
        String text = r.toString();
        assertFalse(text.contains("\n") || text.contains("\r") || text.contains("\t"), text);
        assertEquals("jshim.testing.Repeateds{u32: [4294967295], text: [\"a\\nINFO forged\", \"q\\\"\"], "
                + "labels: {\"k\\r\": \"v\\t\"}}", text);
    }
}
