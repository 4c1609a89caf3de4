package io.jshim.proto.wire;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The schemas as protobuf-java sees them (protoc's descriptor sets, written by the build into target/descriptor-sets)
 * and the generated class of each message: the tests' bridge between the reference and jshim's code.
 */
final class Schemas {

    /** Every file of src/main/proto and src/test/proto, by name. */
    static final Map<String, FileDescriptor> FILES = load();

    private Schemas() {}

    private static Map<String, FileDescriptor> load() {
        Map<String, FileDescriptorProto> protos = new LinkedHashMap<>();
        for (String set : List.of("target/descriptor-sets/main/main.protobin", "target/descriptor-sets/test/test.protobin")) {
            try {
                for (FileDescriptorProto f : FileDescriptorSet.parseFrom(Files.readAllBytes(Path.of(set))).getFileList()) {
                    protos.putIfAbsent(f.getName(), f);
                }
            } catch (IOException e) {
                throw new IllegalStateException("descriptor set " + set + " (written by protoc in the build)", e);
            }
        }
        Map<String, FileDescriptor> built = new LinkedHashMap<>();
        for (String name : protos.keySet()) {
            build(name, protos, built);
        }
        return built;
    }

    private static FileDescriptor build(String name, Map<String, FileDescriptorProto> protos, Map<String, FileDescriptor> built) {
        FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        FileDescriptorProto proto = protos.get(name);
        List<FileDescriptor> deps = new ArrayList<>();
        for (String dep : proto.getDependencyList()) {
            deps.add(build(dep, protos, built));
        }
        try {
            FileDescriptor f = FileDescriptor.buildFrom(proto, deps.toArray(FileDescriptor[]::new));
            built.put(name, f);
            return f;
        } catch (DescriptorValidationException e) {
            throw new IllegalStateException(name, e);
        }
    }

    /** Every message type of every file (top-level: the generator supports no others). */
    static List<Descriptor> allMessages() {
        List<Descriptor> out = new ArrayList<>();
        for (FileDescriptor f : FILES.values()) {
            out.addAll(f.getMessageTypes());
        }
        return out;
    }

    static Descriptor message(String fullName) {
        for (Descriptor d : allMessages()) {
            if (d.getFullName().equals(fullName)) {
                return d;
            }
        }
        throw new IllegalArgumentException("no message " + fullName);
    }

    static FieldDescriptor field(Descriptor d, String name) {
        FieldDescriptor f = d.findFieldByName(name);
        if (f == null) {
            throw new IllegalArgumentException(d.getFullName() + " has no field " + name);
        }
        return f;
    }

    /** The generated class of a message: java_package + name (java_multiple_files). */
    static Class<?> generatedClass(Descriptor d) {
        String name = d.getFile().getOptions().getJavaPackage() + "." + d.getName();
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new AssertionError("no generated class " + name + " for " + d.getFullName(), e);
        }
    }

    /** The generated {@code parser()} of a message, typed as the runtime sees it. */
    @SuppressWarnings("unchecked")
    static ProtoParser<ProtoMessage> parser(Descriptor d) {
        try {
            MethodHandle h = MethodHandles.publicLookup().findStatic(generatedClass(d), "parser",
                    MethodType.methodType(ProtoParser.class));
            return (ProtoParser<ProtoMessage>) h.invoke();
        } catch (Throwable e) {
            throw new AssertionError(d.getFullName() + ".parser()", e);
        }
    }

    /** {@code m.toBuilder().build()}, by reflection. */
    static ProtoMessage rebuild(ProtoMessage m) {
        try {
            Object builder = m.getClass().getMethod("toBuilder").invoke(m);
            return ((ProtoBuilder<?>) builder).build();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(m.typeName() + ".toBuilder()", e);
        }
    }

    static ProtoMessage defaultInstance(Descriptor d) {
        try {
            return (ProtoMessage) generatedClass(d).getMethod("getDefaultInstance").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(d.getFullName() + ".getDefaultInstance()", e);
        }
    }

    /** The message without unknown fields at any depth: what jshim's decoder keeps. */
    static Message withoutUnknown(Message m) {
        Message.Builder b = m.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.getDefaultInstance());
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (f.isRepeated()) {
                b.clearField(f);
                for (Object v : (List<?>) e.getValue()) {
                    b.addRepeatedField(f, withoutUnknown((Message) v));
                }
            } else {
                b.setField(f, withoutUnknown((Message) e.getValue()));
            }
        }
        return b.build();
    }
}
