package io.jshim.protogen;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Every message and enum of the request's files, by full proto name: where its Java class is. */
final class Schema {

    private final Map<String, String> javaClasses = new HashMap<>();
    private final Map<String, DescriptorProto> mapEntries = new HashMap<>();

    Schema(List<FileDescriptorProto> files) {
        for (FileDescriptorProto file : files) {
            String protoPackage = file.getPackage().isEmpty() ? "" : "." + file.getPackage();
            String javaPackage = javaPackage(file);
            for (DescriptorProto m : file.getMessageTypeList()) {
                index(protoPackage + "." + m.getName(), javaPackage + "." + m.getName(), m);
            }
            for (EnumDescriptorProto e : file.getEnumTypeList()) {
                javaClasses.put(protoPackage + "." + e.getName(), javaPackage + "." + e.getName());
            }
        }
    }

    private void index(String protoName, String javaName, DescriptorProto m) {
        javaClasses.put(protoName, javaName);
        for (DescriptorProto nested : m.getNestedTypeList()) {
            if (nested.getOptions().getMapEntry()) {
                mapEntries.put(protoName + "." + nested.getName(), nested);
            } else {
                throw new IllegalArgumentException(protoName + ": nested messages are not supported (" + nested.getName() + ")");
            }
        }
        if (m.getEnumTypeCount() > 0) {
            throw new IllegalArgumentException(protoName + ": nested enums are not supported");
        }
    }

    static String javaPackage(FileDescriptorProto file) {
        if (!file.getOptions().hasJavaPackage()) {
            throw new IllegalArgumentException(file.getName() + ": option java_package is required");
        }
        if (!file.getOptions().getJavaMultipleFiles()) {
            throw new IllegalArgumentException(file.getName() + ": option java_multiple_files = true is required");
        }
        return file.getOptions().getJavaPackage();
    }

    String javaClass(String protoTypeName) {
        String name = javaClasses.get(protoTypeName);
        if (name == null) {
            throw new IllegalArgumentException("unknown type " + protoTypeName);
        }
        return name;
    }

    boolean isMapEntry(String protoTypeName) {
        return mapEntries.containsKey(protoTypeName);
    }

    boolean isStringMapEntry(String protoTypeName) {
        DescriptorProto entry = mapEntries.get(protoTypeName);
        if (entry == null) {
            return false;
        }
        for (FieldDescriptorProto f : entry.getFieldList()) {
            if (f.getType() != FieldDescriptorProto.Type.TYPE_STRING) {
                throw new IllegalArgumentException(protoTypeName + ": only map<string, string> is supported");
            }
        }
        return true;
    }
}
