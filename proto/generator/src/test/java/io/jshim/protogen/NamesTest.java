package io.jshim.protogen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Names.camel against protoc's Java naming (java/names.cc UnderscoresToCamelCase): the accessors must be the ones
 * protobuf-java's generated code has, or callers migrating from it would not compile. Expected values are protoc's
 * (protoc --java_out gives getIoUid, getField1A, getOomScoreAdj, getX2Y, ...).
 */
class NamesTest {

    private static void names(String proto, String upper, String lower) {
        assertEquals(upper, Names.camel(proto, true), proto);
        assertEquals(lower, Names.camel(proto, false), proto);
    }

    @Test
    void protocJavaNames() {
        names("io_uid", "IoUid", "ioUid");
        names("oom_score_adj", "OomScoreAdj", "oomScoreAdj");
        names("field_1a", "Field1A", "field1A");       // a letter after a digit is capitalised
        names("x2y", "X2Y", "x2Y");
        names("v1_beta", "V1Beta", "v1Beta");
        names("f_1_2", "F12", "f12");
        names("camelCase", "CamelCase", "camelCase");
        names("ABC", "ABC", "aBC");                    // only the first letter is lowered
        names("double__underscore", "DoubleUnderscore", "doubleUnderscore");
        names("trailing_", "Trailing", "trailing");
        names("_leading", "Leading", "Leading");       // protoc capitalises after '_' even at the start
        names("exit_status", "ExitStatus", "exitStatus");
        names("per_cpu", "PerCpu", "perCpu");
        names("id", "Id", "id");
    }

    @Test
    void quotesJavaStringLiterals() {
        assertEquals("\"a\\\"b\\\\c\\nd\"", Names.quote("a\"b\\c\nd"));
        assertEquals("\"containerd.events.TaskExit\"", Names.quote("containerd.events.TaskExit"));
    }
}
