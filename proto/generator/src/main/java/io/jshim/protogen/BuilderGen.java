package io.jshim.protogen;

import java.util.List;

/** A message's mutable {@code Builder}: protobuf-java's setters, adders, clearers and {@code mergeFrom}. */
final class BuilderGen {
    private BuilderGen() {}

    static void generate(Code c, String message, List<Field> fields) {
        c.open("public static final class Builder implements io.jshim.proto.wire.ProtoBuilder<" + message + ">");
        for (Field f : fields) {
            switch (f.shape()) {
                case SINGULAR -> c.line("private " + f.storedType() + " " + f.member() + " = " + f.kind().defaultValue() + ";");
                case OPTIONAL -> c.line("private " + f.storedType() + " " + f.member() + " = " + f.kind().defaultValue() + ";")
                        .line("private boolean " + MessageGen.has(f) + ";");
                case REPEATED -> c.line("private java.util.ArrayList<" + f.boxedElement() + "> " + f.member() + ";");
                case STRING_MAP -> c.line("private java.util.LinkedHashMap<String, String> " + f.member() + ";");
            }
        }
        c.line("");
        c.open("private Builder()").close().line("");
        for (Field f : fields) {
            switch (f.shape()) {
                case SINGULAR, OPTIONAL -> singular(c, f);
                case REPEATED -> repeated(c, f);
                case STRING_MAP -> map(c, f);
            }
        }
        mergeFrom(c, message, fields);
        c.line("@Override");
        c.open("public " + message + " build()").line("return new " + message + "(this);").close().line("");
        setField(c, fields);
        c.close();
    }

    private static void singular(Code c, Field f) {
        String cam = f.camel(), m = f.member();
        boolean optional = f.shape() == Field.Shape.OPTIONAL;
        String mark = optional ? " " + MessageGen.has(f) + " = true;" : "";
        switch (f.kind()) {
            case ENUM -> {
                c.open("public Builder set" + cam + "(" + f.javaType() + " value)")
                        .line(m + " = value.getNumber();" + mark).line("return this;").close();
                c.open("public Builder set" + cam + "Value(int value)").line(m + " = value;" + mark).line("return this;").close();
                c.open("public " + f.javaType() + " get" + cam + "()").line("return " + f.javaType() + ".ofNumber(" + m + ");").close();
                c.open("public int get" + cam + "Value()").line("return " + m + ";").close();
            }
            case MESSAGE -> {
                c.open("public Builder set" + cam + "(" + f.javaType() + " value)")
                        .line(m + " = java.util.Objects.requireNonNull(value);" + mark).line("return this;").close();
                c.open("public Builder set" + cam + "(" + f.javaType() + ".Builder value)")
                        .line(m + " = value.build();" + mark).line("return this;").close();
                c.open("public Builder merge" + cam + "(" + f.javaType() + " value)")
                        .line(m + " = " + m + " == null ? value : " + m + ".toBuilder().mergeFrom(value).build();" + mark)
                        .line("return this;").close();
                c.open("public " + f.javaType() + " get" + cam + "()")
                        .line("return " + m + " == null ? " + f.javaType() + ".getDefaultInstance() : " + m + ";").close();
                c.open("public boolean has" + cam + "()").line("return " + m + " != null;").close();
            }
            default -> {
                String check = f.kind().isPrimitive() ? "value" : "java.util.Objects.requireNonNull(value)";
                c.open("public Builder set" + cam + "(" + f.javaType() + " value)").line(m + " = " + check + ";" + mark).line("return this;").close();
                c.open("public " + f.javaType() + " get" + cam + "()").line("return " + m + ";").close();
            }
        }
        if (optional && f.kind() != Kind.MESSAGE) {
            c.open("public boolean has" + cam + "()").line("return " + MessageGen.has(f) + ";").close();
        }
        c.open("public Builder clear" + cam + "()").line(m + " = " + f.kind().defaultValue() + ";"
                + (optional ? " " + MessageGen.has(f) + " = false;" : "")).line("return this;").close();
    }

    private static void repeated(Code c, Field f) {
        String cam = f.camel(), m = f.member(), t = f.boxedElement();
        c.open("java.util.ArrayList<" + t + "> list" + cam + "()")
                .open("if (" + m + " == null)").line(m + " = new java.util.ArrayList<>();").close()
                .line("return " + m + ";").close();
        c.open("public Builder add" + cam + "(" + t + " value)")
                .line("list" + cam + "().add(java.util.Objects.requireNonNull(value));").line("return this;").close();
        if (f.kind() == Kind.MESSAGE) {
            c.open("public Builder add" + cam + "(" + t + ".Builder value)").line("list" + cam + "().add(value.build());").line("return this;").close();
        }
        c.open("public Builder addAll" + cam + "(Iterable<? extends " + t + "> values)")
                .open("for (" + t + " v : values)").line("add" + cam + "(v);").close().line("return this;").close();
        c.open("public Builder set" + cam + "(int index, " + t + " value)")
                .line("list" + cam + "().set(index, java.util.Objects.requireNonNull(value));").line("return this;").close();
        c.open("public java.util.List<" + t + "> get" + cam + "List()")
                .line("return " + m + " == null ? java.util.List.of() : java.util.Collections.unmodifiableList(" + m + ");").close();
        c.open("public int get" + cam + "Count()").line("return " + m + " == null ? 0 : " + m + ".size();").close();
        c.open("public " + t + " get" + cam + "(int index)").line("return get" + cam + "List().get(index);").close();
        c.open("public Builder clear" + cam + "()").line(m + " = null;").line("return this;").close();
    }

    private static void map(Code c, Field f) {
        String cam = f.camel(), m = f.member();
        c.open("java.util.LinkedHashMap<String, String> map" + cam + "()")
                .open("if (" + m + " == null)").line(m + " = new java.util.LinkedHashMap<>();").close()
                .line("return " + m + ";").close();
        c.open("public Builder put" + cam + "(String key, String value)")
                .line("map" + cam + "().put(java.util.Objects.requireNonNull(key), java.util.Objects.requireNonNull(value));")
                .line("return this;").close();
        c.open("public Builder putAll" + cam + "(java.util.Map<String, String> values)")
                .open("for (java.util.Map.Entry<String, String> e : values.entrySet())").line("put" + cam + "(e.getKey(), e.getValue());").close()
                .line("return this;").close();
        c.open("public Builder remove" + cam + "(String key)")
                .open("if (" + m + " != null)").line(m + ".remove(key);").close().line("return this;").close();
        c.open("public java.util.Map<String, String> get" + cam + "Map()")
                .line("return " + m + " == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(" + m + ");").close();
        c.open("public int get" + cam + "Count()").line("return " + m + " == null ? 0 : " + m + ".size();").close();
        c.open("public boolean contains" + cam + "(String key)").line("return " + m + " != null && " + m + ".containsKey(key);").close();
        c.open("public String get" + cam + "OrDefault(String key, String defaultValue)")
                .line("return " + m + " == null ? defaultValue : " + m + ".getOrDefault(key, defaultValue);").close();
        c.open("public Builder clear" + cam + "()").line(m + " = null;").line("return this;").close();
    }

    private static void mergeFrom(Code c, String message, List<Field> fields) {
        c.line("/** protobuf's merge: set scalars replace, messages merge, repeated fields append, maps put. */");
        c.open("public Builder mergeFrom(" + message + " other)");
        for (Field f : fields) {
            String m = f.member();
            switch (f.shape()) {
                case SINGULAR -> {
                    if (f.kind() == Kind.MESSAGE) {
                        c.line("if (other." + m + " != null) merge" + f.camel() + "(other." + m + ");");
                    } else {
                        c.line("if (" + f.kind().notDefault("other." + m) + ") " + m + " = other." + m + ";");
                    }
                }
                case OPTIONAL -> c.line("if (other." + MessageGen.has(f) + ") { " + m + " = other." + m + "; "
                        + MessageGen.has(f) + " = true; }");
                case REPEATED -> c.line("if (!other." + m + ".isEmpty()) list" + f.camel() + "().addAll(other." + m + ");");
                case STRING_MAP -> c.line("if (!other." + m + ".isEmpty()) map" + f.camel() + "().putAll(other." + m + ");");
            }
        }
        c.line("return this;").close().line("");
    }

    /** JSON's way in: a scalar field by proto name, converted by {@code ProtoValues}. */
    private static void setField(Code c, List<Field> fields) {
        c.line("@Override");
        c.open("public boolean setField(String protoName, Object value)");
        if (fields.stream().allMatch(f -> f.shape() == Field.Shape.REPEATED || f.shape() == Field.Shape.STRING_MAP
                || f.kind() == Kind.MESSAGE)) {
            c.line("return false;").close();
            return;
        }
        c.open("switch (protoName)");
        for (Field f : fields) {
            if (f.shape() == Field.Shape.REPEATED || f.shape() == Field.Shape.STRING_MAP || f.kind() == Kind.MESSAGE) {
                continue;
            }
            String v = "io.jshim.proto.wire.ProtoValues.";
            String conv = switch (f.kind()) {
                case STRING -> v + "string(value)";
                case BYTES -> v + "bytes(value)";
                case BOOL -> v + "bool(value)";
                case FLOAT -> "(float) " + v + "number(value)";
                case DOUBLE -> v + "number(value)";
                case ENUM -> null;
                default -> f.kind().javaType.equals("long") ? v + "int64(value, " + f.kind().unsigned + ")"
                        : v + "int32(value, " + f.kind().unsigned + ")";
            };
            if (f.kind() == Kind.ENUM) {
                c.line("case " + Names.quote(f.protoName()) + " -> set" + f.camel() + "Value(value instanceof String s ? "
                        + f.javaType() + ".valueOf(s).getNumber() : " + v + "int32(value, false));");
            } else {
                c.line("case " + Names.quote(f.protoName()) + " -> set" + f.camel() + "(" + conv + ");");
            }
        }
        c.open("default ->").line("return false;").close();
        c.close().line("return true;").close();
    }
}
