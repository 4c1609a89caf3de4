package io.jshim.protogen;

import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;

/**
 * A field type as the generated code sees it: its Java type, its boxed type, the wire type, and the name of its
 * writer, sizer and reader methods in {@code io.jshim.proto.wire} ({@code ProtoWriter.int32}, {@code sizeInt32},
 * {@code ProtoReader.int32}).
 */
enum Kind {
    INT32("int", "Integer", 0, "int32", false), UINT32("int", "Integer", 0, "uint32", true),
    SINT32("int", "Integer", 0, "sint32", false), FIXED32("int", "Integer", 5, "fixed32", true),
    SFIXED32("int", "Integer", 5, "sfixed32", false), INT64("long", "Long", 0, "int64", false),
    UINT64("long", "Long", 0, "uint64", true), SINT64("long", "Long", 0, "sint64", false),
    FIXED64("long", "Long", 1, "fixed64", true), SFIXED64("long", "Long", 1, "sfixed64", false),
    BOOL("boolean", "Boolean", 0, "bool", false), FLOAT("float", "Float", 5, "floatValue", false),
    DOUBLE("double", "Double", 1, "doubleValue", false), STRING("String", "String", 2, "string", false),
    BYTES("io.jshim.proto.wire.Bytes", "io.jshim.proto.wire.Bytes", 2, "bytes", false),
    ENUM("int", "Integer", 0, "enumValue", false), MESSAGE(null, null, 2, "message", false);

    final String javaType;
    final String boxed;
    final int wireType;
    final String io;
    final boolean unsigned;

    Kind(String javaType, String boxed, int wireType, String io, boolean unsigned) {
        this.javaType = javaType;
        this.boxed = boxed;
        this.wireType = wireType;
        this.io = io;
        this.unsigned = unsigned;
    }

    String sizer() {
        return "size" + Character.toUpperCase(io.charAt(0)) + io.substring(1);
    }

    boolean isPrimitive() {
        return this != STRING && this != BYTES && this != MESSAGE;
    }

    /** The Java expression that is true when a value of this kind is not proto3's default. */
    String notDefault(String v) {
        return switch (this) {
            case STRING, BYTES -> "!" + v + ".isEmpty()";
            case BOOL -> v;
            case FLOAT -> "Float.floatToRawIntBits(" + v + ") != 0";
            case DOUBLE -> "Double.doubleToRawLongBits(" + v + ") != 0";
            case MESSAGE -> v + " != null";
            default -> v + " != 0";
        };
    }

    String defaultValue() {
        return switch (this) {
            case STRING -> "\"\"";
            case BYTES -> "io.jshim.proto.wire.Bytes.EMPTY";
            case BOOL -> "false";
            case FLOAT -> "0f";
            case DOUBLE -> "0d";
            case INT64, UINT64, SINT64, FIXED64, SFIXED64 -> "0L";
            case MESSAGE -> "null";
            default -> "0";
        };
    }

    static Kind of(Type type) {
        return switch (type) {
            case TYPE_INT32 -> INT32;
            case TYPE_UINT32 -> UINT32;
            case TYPE_SINT32 -> SINT32;
            case TYPE_FIXED32 -> FIXED32;
            case TYPE_SFIXED32 -> SFIXED32;
            case TYPE_INT64 -> INT64;
            case TYPE_UINT64 -> UINT64;
            case TYPE_SINT64 -> SINT64;
            case TYPE_FIXED64 -> FIXED64;
            case TYPE_SFIXED64 -> SFIXED64;
            case TYPE_BOOL -> BOOL;
            case TYPE_FLOAT -> FLOAT;
            case TYPE_DOUBLE -> DOUBLE;
            case TYPE_STRING -> STRING;
            case TYPE_BYTES -> BYTES;
            case TYPE_ENUM -> ENUM;
            case TYPE_MESSAGE -> MESSAGE;
            case TYPE_GROUP -> throw new IllegalArgumentException("groups are not supported");
        };
    }
}
