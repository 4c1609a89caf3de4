package io.jshim.proto.wire;

/**
 * A message of jshim's wire schemas, generated from the .proto files by {@code jshim-protogen}: its protobuf
 * encoding, and a field walk without reflection (for JSON, and for reading an id out of any request).
 */
public interface ProtoMessage {

    /** The message's full protobuf name, e.g. {@code containerd.events.TaskExit}; an Any's type URL ends with it. */
    String typeName();

    /** The encoded size in bytes, computed once (messages are immutable). */
    int getSerializedSize();

    /** Writes the encoded fields at the writer's position. */
    void writeTo(ProtoWriter out);

    /** This message type's parser. */
    ProtoParser<? extends ProtoMessage> getParserForType();

    /** Calls the visitor for every field that is set, in field-number order, with its proto name. */
    void visitFields(FieldVisitor visitor);

    /** The value of the string field with this proto name, or null where the message has no such field. */
    default String stringField(String protoName) {
        return null;
    }

    default byte[] toByteArray() {
        return ProtoWriter.encode(this);
    }

    default Bytes toByteString() {
        return Bytes.wrap(toByteArray());
    }
}
