package io.jshim.protogen;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorRequest;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * protoc's plugin {@code protoc-gen-jshim}: reads protoc's CodeGeneratorRequest on stdin and answers with one Java
 * file per message and enum of the files to generate. Runs at build time only; the generated code needs nothing
 * but {@code io.jshim.proto.wire}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws IOException {
        CodeGeneratorRequest request = CodeGeneratorRequest.parseFrom(System.in);
        CodeGeneratorResponse.Builder response = CodeGeneratorResponse.newBuilder()
                .setSupportedFeatures(CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL_VALUE);
        try {
            for (CodeGeneratorResponse.File f : generate(request)) {
                response.addFile(f);
            }
        } catch (IllegalArgumentException e) {
            response.setError(e.getMessage());
        }
        response.build().writeTo(System.out);
        System.out.flush();
    }

    static List<CodeGeneratorResponse.File> generate(CodeGeneratorRequest request) {
        Schema schema = new Schema(request.getProtoFileList());
        List<CodeGeneratorResponse.File> out = new ArrayList<>();
        for (FileDescriptorProto file : request.getProtoFileList()) {
            if (!request.getFileToGenerateList().contains(file.getName())) {
                continue;
            }
            if (!file.getSyntax().equals("proto3")) {
                throw new IllegalArgumentException(file.getName() + ": only proto3 is supported");
            }
            String javaPackage = Schema.javaPackage(file);
            String dir = javaPackage.replace('.', '/') + "/";
            String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
            for (EnumDescriptorProto e : file.getEnumTypeList()) {
                out.add(file(dir + e.getName() + ".java", EnumGen.generate(javaPackage, prefix + e.getName(), e)));
            }
            for (DescriptorProto m : file.getMessageTypeList()) {
                List<Field> fields = new ArrayList<>();
                for (FieldDescriptorProto f : m.getFieldList()) {
                    if (f.hasOneofIndex() && !f.getProto3Optional()) {
                        throw new IllegalArgumentException(m.getName() + "." + f.getName() + ": oneof is not supported");
                    }
                    fields.add(Field.of(f, schema));
                }
                fields.sort(Comparator.comparingInt(Field::number)); // protoc writes fields in number order
                out.add(file(dir + m.getName() + ".java",
                        MessageGen.generate(javaPackage, prefix + m.getName(), m.getName(), fields)));
            }
        }
        return out;
    }

    private static CodeGeneratorResponse.File file(String name, String content) {
        return CodeGeneratorResponse.File.newBuilder().setName(name).setContent(content).build();
    }
}
