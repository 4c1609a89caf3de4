package io.jshim.protogen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileOptions;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.DescriptorProtos.OneofDescriptorProto;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorRequest;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Main.generate on hand-built requests: what protoc would send for schemas the generator does and does not support. */
class MainTest {

    private static FieldDescriptorProto field(String name, int number, Type type) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
                .setLabel(Label.LABEL_OPTIONAL).build();
    }

    private static FieldDescriptorProto repeated(String name, int number, Type type) {
        return field(name, number, type).toBuilder().setLabel(Label.LABEL_REPEATED).build();
    }

    private static FileDescriptorProto.Builder file(DescriptorProto... messages) {
        return FileDescriptorProto.newBuilder().setName("t/test.proto").setPackage("t.v1").setSyntax("proto3")
                .setOptions(FileOptions.newBuilder().setJavaPackage("io.jshim.t").setJavaMultipleFiles(true))
                .addAllMessageType(List.of(messages));
    }

    private static CodeGeneratorRequest request(FileDescriptorProto file) {
        return CodeGeneratorRequest.newBuilder().addFileToGenerate(file.getName()).addProtoFile(file).build();
    }

    private static String error(UnaryOperator<FileDescriptorProto.Builder> edit, DescriptorProto... messages) {
        CodeGeneratorRequest req = request(edit.apply(file(messages)).build());
        return assertThrows(IllegalArgumentException.class, () -> Main.generate(req)).getMessage();
    }

    private static DescriptorProto message(String name, FieldDescriptorProto... fields) {
        return DescriptorProto.newBuilder().setName(name).addAllField(List.of(fields)).build();
    }

    @Test
    void generatesOneClassPerMessageAndEnum() {
        FileDescriptorProto f = file(message("Exit", field("container_id", 1, Type.TYPE_STRING),
                        field("exit_status", 2, Type.TYPE_UINT32),
                        repeated("per_cpu", 3, Type.TYPE_UINT64),
                        field("state", 4, Type.TYPE_ENUM).toBuilder().setTypeName(".t.v1.State").build()))
                .addEnumType(EnumDescriptorProto.newBuilder().setName("State")
                        .addValue(EnumValueDescriptorProto.newBuilder().setName("UNKNOWN").setNumber(0))
                        .addValue(EnumValueDescriptorProto.newBuilder().setName("RUNNING").setNumber(1)))
                .build();
        List<CodeGeneratorResponse.File> out = Main.generate(request(f));
        assertEquals(List.of("io/jshim/t/State.java", "io/jshim/t/Exit.java"), out.stream().map(CodeGeneratorResponse.File::getName).toList());
        String exit = out.get(1).getContent();
        assertTrue(exit.startsWith("package io.jshim.t;"), exit);
        assertTrue(exit.contains("TYPE_NAME = \"t.v1.Exit\""), exit);
        for (String api : List.of("public String getContainerId()", "public int getExitStatus()",
                "public java.util.List<Long> getPerCpuList()", "public io.jshim.t.State getState()", "public int getStateValue()",
                "public static Builder newBuilder()", "public Builder setContainerId(String value)",
                "public Builder addPerCpu(Long value)", "public static Exit parseFrom(byte[] bytes)")) {
            assertTrue(exit.contains(api), api);
        }
        String state = out.get(0).getContent();
        assertTrue(state.contains("public enum State implements io.jshim.proto.wire.ProtoEnum"), state);
        assertTrue(state.contains("RUNNING(1),") && state.contains("UNRECOGNIZED(-1);"), state);
    }

    @Test
    void filesNotToGenerateAreOnlyReadForTheirTypes() {
        FileDescriptorProto dep = file(message("Dep", field("x", 1, Type.TYPE_STRING))).setName("t/dep.proto").build();
        FileDescriptorProto main = file(message("Uses", field("dep", 1, Type.TYPE_MESSAGE).toBuilder().setTypeName(".t.v1.Dep").build()))
                .addDependency("t/dep.proto").build();
        CodeGeneratorRequest req = CodeGeneratorRequest.newBuilder().addFileToGenerate(main.getName())
                .addProtoFile(dep).addProtoFile(main).build();
        List<CodeGeneratorResponse.File> out = Main.generate(req);
        assertEquals(List.of("io/jshim/t/Uses.java"), out.stream().map(CodeGeneratorResponse.File::getName).toList());
        assertTrue(out.get(0).getContent().contains("public io.jshim.t.Dep getDep()"));
    }

    @Test
    void oneofIsRefused() {
        DescriptorProto m = message("Choice", field("a", 1, Type.TYPE_STRING).toBuilder().setOneofIndex(0).build(),
                field("b", 2, Type.TYPE_UINT32).toBuilder().setOneofIndex(0).build()).toBuilder()
                .addOneofDecl(OneofDescriptorProto.newBuilder().setName("which")).build();
        assertEquals("Choice.a: oneof is not supported", error(b -> b, m));
        // proto3 optional is a synthetic oneof of one field: supported
        DescriptorProto opt = message("Opt", field("a", 1, Type.TYPE_STRING).toBuilder().setOneofIndex(0).setProto3Optional(true).build())
                .toBuilder().addOneofDecl(OneofDescriptorProto.newBuilder().setName("_a")).build();
        assertTrue(Main.generate(request(file(opt).build())).get(0).getContent().contains("public boolean hasA()"));
    }

    @Test
    void proto2IsRefused() {
        DescriptorProto m = message("Old", field("a", 1, Type.TYPE_STRING));
        assertEquals("t/test.proto: only proto3 is supported", error(b -> b.setSyntax("proto2"), m));
        assertEquals("t/test.proto: only proto3 is supported", error(FileDescriptorProto.Builder::clearSyntax, m)); // protoc: no syntax is proto2
    }

    @Test
    void nestedTypesAreRefused() {
        DescriptorProto nested = message("Outer", field("a", 1, Type.TYPE_STRING)).toBuilder()
                .addNestedType(message("Inner", field("x", 1, Type.TYPE_STRING))).build();
        assertEquals(".t.v1.Outer: nested messages are not supported (Inner)", error(b -> b, nested));
        DescriptorProto nestedEnum = message("Outer", field("a", 1, Type.TYPE_STRING)).toBuilder()
                .addEnumType(EnumDescriptorProto.newBuilder().setName("Kind")
                        .addValue(EnumValueDescriptorProto.newBuilder().setName("K0").setNumber(0))).build();
        assertEquals(".t.v1.Outer: nested enums are not supported", error(b -> b, nestedEnum));
    }

    @Test
    void mapsOtherThanStringToStringAreRefused() {
        DescriptorProto entry = message("CountsEntry", field("key", 1, Type.TYPE_STRING), field("value", 2, Type.TYPE_INT32))
                .toBuilder().setOptions(MessageOptions.newBuilder().setMapEntry(true)).build();
        DescriptorProto m = message("M", repeated("counts", 1, Type.TYPE_MESSAGE).toBuilder().setTypeName(".t.v1.M.CountsEntry").build())
                .toBuilder().addNestedType(entry).build();
        assertEquals(".t.v1.M.CountsEntry: only map<string, string> is supported", error(b -> b, m));
    }

    @Test
    void repeatedScalarsThatAreNotPlainVarintsAreRefused() {
        // packed runs are written as plain varints: zigzag, booleans and fixed widths would be wrong or not compile
        for (Type t : List.of(Type.TYPE_SINT32, Type.TYPE_SINT64, Type.TYPE_BOOL, Type.TYPE_FIXED32, Type.TYPE_FIXED64,
                Type.TYPE_SFIXED32, Type.TYPE_SFIXED64, Type.TYPE_FLOAT, Type.TYPE_DOUBLE)) {
            String msg = error(b -> b, message("R", repeated("xs", 1, t)));
            assertTrue(msg.startsWith("xs: repeated ") && msg.endsWith(" is not supported"), msg);
        }
        for (Type t : List.of(Type.TYPE_INT32, Type.TYPE_INT64, Type.TYPE_UINT32, Type.TYPE_UINT64, Type.TYPE_STRING, Type.TYPE_BYTES)) {
            assertFalse(Main.generate(request(file(message("R", repeated("xs", 1, t))).build())).isEmpty(), t.toString());
        }
    }

    @Test
    void javaOptionsAreRequired() {
        DescriptorProto m = message("M", field("a", 1, Type.TYPE_STRING));
        assertEquals("t/test.proto: option java_package is required",
                error(b -> b.setOptions(FileOptions.newBuilder().setJavaMultipleFiles(true)), m));
        assertEquals("t/test.proto: option java_multiple_files = true is required",
                error(b -> b.setOptions(FileOptions.newBuilder().setJavaPackage("io.jshim.t")), m));
    }

    /** protoc's contract: a schema the plugin refuses is an error in the response (protoc prints it), not a crash. */
    @Test
    void mainAnswersAnErrorResponse() throws Exception {
        DescriptorProto nested = message("Outer", field("a", 1, Type.TYPE_STRING)).toBuilder()
                .addNestedType(message("Inner", field("x", 1, Type.TYPE_STRING))).build();
        CodeGeneratorResponse bad = runMain(request(file(nested).build()));
        assertEquals(".t.v1.Outer: nested messages are not supported (Inner)", bad.getError());
        assertEquals(0, bad.getFileCount());

        CodeGeneratorResponse good = runMain(request(file(message("M", field("a", 1, Type.TYPE_STRING))).build()));
        assertFalse(good.hasError(), good.getError());
        assertEquals(List.of("io/jshim/t/M.java"), good.getFileList().stream().map(CodeGeneratorResponse.File::getName).toList());
        assertEquals(CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL_VALUE, good.getSupportedFeatures());
    }

    private static synchronized CodeGeneratorResponse runMain(CodeGeneratorRequest req) throws Exception {
        InputStream in = System.in;
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(req.toByteArray()));
            System.setOut(new PrintStream(captured, true));
            Main.main(new String[0]);
        } finally {
            System.setIn(in);
            System.setOut(out);
        }
        return CodeGeneratorResponse.parseFrom(captured.toByteArray());
    }
}
