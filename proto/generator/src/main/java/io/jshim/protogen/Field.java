package io.jshim.protogen;

import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;

/**
 * One field of a message as the generator needs it.
 *
 * @param protoName the name in the .proto file (JSON and {@code stringField} use it)
 * @param camel     the capitalised Java name: {@code getExitStatus}, {@code setExitStatus}
 * @param javaType  the element's Java type (the message or enum class for those kinds)
 * @param shape     singular, optional (proto3 {@code optional}: has a presence bit), repeated or a string map
 */
record Field(String protoName, int number, Kind kind, String javaType, Shape shape) {

    enum Shape { SINGULAR, OPTIONAL, REPEATED, STRING_MAP }

    static Field of(FieldDescriptorProto f, Schema schema) {
        Kind kind = Kind.of(f.getType());
        Shape shape;
        if (f.getLabel() == Label.LABEL_REPEATED) {
            shape = kind == Kind.MESSAGE && schema.isStringMapEntry(f.getTypeName()) ? Shape.STRING_MAP : Shape.REPEATED;
            // packed runs are plain varints: no zigzag (sint) and no booleans; and no fixed-width runs
            if (shape == Shape.REPEATED && kind.isPrimitive()
                    && (kind.wireType != 0 || kind == Kind.BOOL || kind == Kind.SINT32 || kind == Kind.SINT64)) {
                throw new IllegalArgumentException(f.getName() + ": repeated " + kind + " is not supported");
            }
        } else {
            // an optional message is a plain message field: presence is its null, and it merges like one
            shape = f.getProto3Optional() && kind != Kind.MESSAGE ? Shape.OPTIONAL : Shape.SINGULAR;
        }
        if (kind == Kind.MESSAGE && shape == Shape.REPEATED && schema.isMapEntry(f.getTypeName())) {
            throw new IllegalArgumentException(f.getName() + ": only map<string, string> is supported");
        }
        String javaType = shape == Shape.STRING_MAP ? "String"
                : kind == Kind.MESSAGE || kind == Kind.ENUM ? schema.javaClass(f.getTypeName()) : kind.javaType;
        return new Field(f.getName(), f.getNumber(), kind, javaType, shape);
    }

    String camel() {
        return Names.camel(protoName, true);
    }

    /** The private member holding the value: protobuf-java's style, and never a Java keyword. */
    String member() {
        return Names.camel(protoName, false) + "_";
    }

    /** The element type as stored: enums are kept as their number. */
    String storedType() {
        return kind == Kind.ENUM ? "int" : javaType;
    }

    String boxedElement() {
        return kind == Kind.ENUM ? "Integer" : kind == Kind.MESSAGE ? javaType : kind.boxed;
    }

    int tag() {
        return number << 3 | kind.wireType;
    }

    /** The tag of a packed repeated scalar (length-delimited). */
    int packedTag() {
        return number << 3 | 2;
    }

    boolean packable() {
        return shape == Shape.REPEATED && kind.isPrimitive();
    }
}
