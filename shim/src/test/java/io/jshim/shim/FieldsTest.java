package io.jshim.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class FieldsTest {
    @Test
    void splitsAsTheRegexDid() {
        String[] lines = {
            "", " ", "a", "  a  ", "a b", "a   b", " a\tb  c ", "\t a  b\t", "Num       RefCount Protocol Flags    Type St Inode Path",
            "0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/containerd/s/abc",
            "0000000000000000: 00000003 00000000 00000000 0001 03 23456", "x\u00a0y z",
        };
        for (String line : lines) {
            assertArrayEquals(line.trim().split(" +"), Fields.spaceSeparated(line), "'" + line + "'");
        }
    }
}
