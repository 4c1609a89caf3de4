package io.jshim.proto.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.events.TaskIO;
import io.jshim.proto.runc.Options;
import io.jshim.proto.types.Mount;
import io.jshim.proto.wkt.Any;
import io.jshim.proto.wkt.Timestamp;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** ProtoJson against protobuf-java-util's JsonFormat with proto field names and no whitespace. */
class ProtoJsonTest {
    static final int ROUNDS = WireCompatTest.FULL ? 2_000 : 100;

    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().omittingInsignificantWhitespace().preservingProtoFieldNames();

    /** JsonFormat's text for the same bytes, decoded by protobuf-java with the schema's descriptor. */
    private static String reference(ProtoMessage m) throws InvalidProtocolBufferException {
        return PRINTER.print(DynamicMessage.parseFrom(Schemas.message(m.typeName()), m.toByteArray()));
    }

    private static void printsAsJsonFormat(ProtoMessage m) throws InvalidProtocolBufferException {
        assertEquals(reference(m), ProtoJson.print(m), () -> ProtoText.toString(m));
    }

    @Test
    void taskExitWithTimestamp() throws Exception {
        for (int nanos : new int[] {0, 1, 120_000_000, 123_456_000, 123_456_789, 999_999_999}) {
            TaskExit exit = TaskExit.newBuilder().setContainerId("c1").setId("exec-1").setPid(4242).setExitStatus(137)
                    .setExitedAt(Timestamp.newBuilder().setSeconds(1_765_000_000L).setNanos(nanos)).build();
            printsAsJsonFormat(exit);
        }
        assertEquals("{\"container_id\":\"c1\",\"pid\":7,\"exited_at\":\"2025-12-06T05:46:40.120Z\"}",
                ProtoJson.print(TaskExit.newBuilder().setContainerId("c1").setPid(7)
                        .setExitedAt(Timestamp.newBuilder().setSeconds(1_764_999_999L + 1).setNanos(120_000_000)).build()));
        // a set but zero timestamp is the epoch, not an absent field; an exit status above 2^31 stays unsigned
        printsAsJsonFormat(TaskExit.newBuilder().setExitedAt(Timestamp.getDefaultInstance()).setExitStatus(-1).build());
        printsAsJsonFormat(TaskExit.newBuilder().setExitedAt(Timestamp.newBuilder().setSeconds(-62_135_596_800L)).build());
        printsAsJsonFormat(TaskExit.newBuilder().setExitedAt(Timestamp.newBuilder().setSeconds(253_402_300_799L)
                .setNanos(999_999_999)).build());
        printsAsJsonFormat(TaskExit.getDefaultInstance());
    }

    @Test
    void taskCreateWithRootfsAndIo() throws Exception {
        TaskCreate create = TaskCreate.newBuilder().setContainerId("redis").setBundle("/run/containerd/io.containerd.runtime.v2.task/default/redis")
                .addRootfs(Mount.newBuilder().setType("overlay").setSource("overlay")
                        .addOptions("index=off").addOptions("workdir=/var/lib/x/work").addOptions("upperdir=/var/lib/x/fs")
                        .addOptions("lowerdir=/a:/b"))
                .addRootfs(Mount.newBuilder().setType("bind").setTarget("/data").addOptions("rbind"))
                .setIo(TaskIO.newBuilder().setStdin("/run/fifo/in").setStdout("/run/fifo/out").setStderr("").setTerminal(true))
                .setPid(31337).build();
        printsAsJsonFormat(create);
        // escapes: quotes, backslash, control characters, HTML-significant characters, U+2028/9, non-ASCII as is
        printsAsJsonFormat(TaskCreate.newBuilder().setContainerId("a\"b\\c\nd\te\u0001f<g>&h='i'\u2028j\u2029k\u007f é中😀")
                .setBundle("\b\f\r\u001f\u0000").build());
    }

    @Test
    void runcOptions() throws Exception {
        Options options = Options.newBuilder().setNoPivotRoot(true).setShimCgroup("/kubepods/pod1").setIoUid(1000)
                .setIoGid(-2).setBinaryName("/usr/local/bin/runc").setRoot("/run/containerd/runc")
                .setSystemdCgroup(true).setCriuImagePath("/tmp/img").build();
        printsAsJsonFormat(options);
        printsAsJsonFormat(Options.getDefaultInstance());
    }

    @Test
    void anyKeepsItsValueAsBase64() {
        // JsonFormat needs a registry of every type an Any may hold and prints the held message's fields; ProtoJson
        // has no registry and prints the bytes: a deliberate difference
        Any any = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(Options.newBuilder().setRoot("/r").build().toByteString()).build();
        assertEquals("{\"@type\":\"containerd.runc.v1.Options\",\"value\":\"OgIvcg==\"}", ProtoJson.print(any));
    }

    /** Every message type without an Any inside: random messages print as JsonFormat prints them. */
    @TestFactory
    Stream<DynamicTest> randomMessagesPrintAsJsonFormat() {
        return Schemas.allMessages().stream().filter(d -> !holdsAny(d, new HashSet<>()))
                .map(d -> DynamicTest.dynamicTest(d.getFullName(), () -> {
                    RandomMessages random = new RandomMessages(d.getFullName().hashCode() + 11);
                    ProtoParser<ProtoMessage> parser = Schemas.parser(d);
                    int compared = 0;
                    for (int i = 0; i < ROUNDS; i++) {
                        DynamicMessage ref = random.message(d);
                        String expected;
                        try {
                            expected = PRINTER.print(ref);
                        } catch (IllegalArgumentException e) {
                            // a Timestamp out of JSON's range (year 1..9999, nanos of a second): refused by both
                            ProtoMessage ours = parser.parseFrom(ref.toByteArray());
                            assertThrows(IllegalArgumentException.class, () -> ProtoJson.print(ours), ref::toString);
                            continue;
                        }
                        ProtoMessage ours = parser.parseFrom(ref.toByteArray());
                        assertEquals(expected, ProtoJson.print(ours), ref::toString);
                        compared++;
                    }
                    assertTrue(compared > ROUNDS / 3, compared + " of " + ROUNDS + " compared");
                }));
    }

    private static boolean holdsAny(Descriptor d, Set<String> seen) {
        if (d.getFullName().equals("google.protobuf.Any")) {
            return true;
        }
        if (!seen.add(d.getFullName())) {
            return false;
        }
        for (FieldDescriptor f : d.getFields()) {
            if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isMapField() && holdsAny(f.getMessageType(), seen)) {
                return true;
            }
        }
        return false;
    }

    // ---- parseScalars ----

    private static Options reference(String json) throws Exception {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(Schemas.message("containerd.runc.v1.Options"));
        JsonFormat.parser().ignoringUnknownFields().merge(json, b);
        return Options.parseFrom(b.build().toByteArray());
    }

    @Test
    void parseScalarsOfRuncOptionsAsJsonFormatParser() throws Exception {
        List<String> docs = List.of(
                "{}",
                " { } ",
                "{\"binary_name\":\"/usr/bin/runc\",\"root\":\"/run/runc\",\"systemd_cgroup\":true,\"io_uid\":1000,\"io_gid\":1000}",
                "{\"binaryName\":\"/usr/bin/runc\",\"systemdCgroup\":true,\"ioUid\":4294967295,\"ioGid\":\"12\",\"noPivotRoot\":false}",
                "{\"no_new_keyring\":true,\"shimCgroup\":\"/k8s\",\"criu_path\":\"/c\",\"criuImagePath\":\"/i\",\"criu_work_path\":\"/w\"}",
                // unknown fields of every JSON kind are ignored, escapes decoded
                "{\"unknown\":1,\"nested\":{\"a\":[1,{\"b\":\"}\"}]},\"list\":[\"x\",2],\"flag\":false,\"nothing\":null,"
                        + "\"root\":\"/r\\\"oo\\\\t\\u00e9\\ud83d\\ude00\\n\\/\",\"ioUid\":1.0e3}",
                "\n{\n  \"io_uid\" : 7 ,\n  \"binary_name\" : \"runc\"\n}\n");
        for (String json : docs) {
            assertEquals(reference(json), ProtoJson.parseScalars(json, Options.newBuilder()), json);
        }
    }

    @Test
    void parseScalarsReadsWhatPrintWrites() throws Exception {
        RandomMessages random = new RandomMessages(5);
        Descriptor d = Schemas.message("containerd.runc.v1.Options");
        for (int i = 0; i < ROUNDS; i++) {
            Options o = Options.parseFrom(random.message(d).toByteArray());
            assertEquals(o, ProtoJson.parseScalars(ProtoJson.print(o), Options.newBuilder()), ProtoJson.print(o));
            assertEquals(o, reference(ProtoJson.print(o)));
        }
    }

    @Test
    void parseScalarsRejectsWhatIsNotAnObjectOrDoesNotFit() {
        for (String bad : List.of("", "[]", "{", "{\"root\":}", "{\"root\":\"x\"", "{\"io_uid\":-1}",
                "{\"io_uid\":4294967296}", "{\"io_uid\":\"abc\"}", "{\"systemd_cgroup\":\"yes\"}",
                "{\"root\":\"\\u12\"}", "{\"root\":\"\\u+041\"}", "{\"root\":\"\\u-041\"}", "{\"io_uid\":1.5}")) {
            assertThrows(IllegalArgumentException.class, () -> ProtoJson.parseScalars(bad, Options.newBuilder()), bad);
            assertThrows(InvalidProtocolBufferException.class, () -> reference(bad), bad);
        }
        // stricter than JsonFormat's lenient reader, which ignores text after the object, takes a number as a string
        // and a name without quotes
        for (String bad : List.of("{\"root\":\"x\"} x", "{\"root\":1}", "{root:\"x\"}")) {
            assertThrows(IllegalArgumentException.class, () -> ProtoJson.parseScalars(bad, Options.newBuilder()), bad);
        }
    }
}
