package io.jshim.proto.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Json against gson (the reader it replaced) on the same documents, and on what it must refuse. */
class JsonTest {
    private static final List<String> VALID = List.of(
            "{}", "[]", "0", "-0", "1", "-1", "123456789012345678", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "1.5", "-1.5e3", "1E+2", "1e-2", "0.000001", "true", "false", "null", "\"\"",
            "\"plain\"", "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"",
            "\"ünïcødé 😀\"", " \t\n\r{ \"a\" : [ 1 , 2 , { \"b\" : null } ] } \n",
            "{\"annotations\":{\"io.containerd.runc.v2.group\":\"web\",\"k\":\"v\"}}",
            "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}",
            "[1,[2,[3,[4,[]]]],{\"x\":{\"y\":{}}}]", "{\"a\":1,\"a\":2}",
            "[{\"level\":\"error\",\"msg\":\"container_linux.go:380: starting container process caused\"}]");

    private static final List<String> MALFORMED = List.of(
            "", " ", "{", "}", "[", "]", "[1,]", "{\"a\":1,}", "{a:1}", "{'a':1}", "['x']", "01", "-", "1.", ".5", "+1",
            "1e", "1e+", "tru", "nul", "falsey", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\u12G4\"",
            "\"tab\there\"", "[1 2]", "{\"a\" 1}", "{\"a\":}", "1 2", "[1]]", "{}{}", "\u00a0{}", "NaN", "Infinity");

    @Test
    void readsWhatGsonReads() {
        for (String doc : VALID) {
            assertSame(JsonParser.parseString(doc), Json.parse(doc), doc);
        }
    }

    @Test
    void refusesMalformedDocumentsWithItsOffset() {
        for (String doc : MALFORMED) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(doc), doc);
            assertTrue(e.getMessage().startsWith("malformed JSON at offset "), e.getMessage());
        }
    }

    @Test
    void refusesNestingDeeperThanItsLimitWithoutOverflowingTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
        String fine = "[".repeat(500) + "]".repeat(500);
        assertEquals(1, Json.array(Json.parse(fine)).size());
    }

    @Test
    void writesWhatItReadsBackUnchanged() {
        for (String doc : VALID) {
            Object value = Json.parse(doc);
            assertEquals(value, Json.parse(Json.write(value)), doc);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ctl", "\u0001\u001f");
        m.put("list", new ArrayList<>(List.of(1L, "two", true)));
        m.put("none", null);
        assertEquals("{\"ctl\":\"\\u0001\\u001f\",\"list\":[1,\"two\",true],\"none\":null}", Json.write(m));
        assertEquals(m, Json.parse(Json.write(m)));
    }

    @Test
    void randomDocumentsReadAsGsonReadsThem() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 2_000; i++) {
            String doc = Json.write(randomValue(random, 0));
            assertSame(JsonParser.parseString(doc), Json.parse(doc), doc);
        }
    }

    @Test
    void writesIntegersBeyondLongExactly() {
        String doc = "{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551615,\"soft\":-9223372036854775809}]}";
        assertEquals(doc, Json.write(Json.parse(doc)));
    }

    @Test
    void accessorsDefaultWhenTheTypeIsNotTheOneAskedFor() {
        assertEquals(Map.of(), Json.object(null));
        assertEquals(Map.of(), Json.object("x"));
        assertEquals(List.of(), Json.array(Map.of()));
        assertEquals("", Json.string(1L));
        assertNull(Json.object(Json.parse("{\"a\":null}")).get("a"));
    }

    private static Object randomValue(SplittableRandom r, int depth) {
        int kind = depth > 4 ? r.nextInt(5) : r.nextInt(7);
        return switch (kind) {
            case 0 -> null;
            case 1 -> r.nextBoolean();
            case 2 -> r.nextLong();
            case 3 -> r.nextDouble() * Math.pow(10, r.nextInt(-5, 12));
            case 4 -> randomString(r);
            case 5 -> {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    l.add(randomValue(r, depth + 1));
                }
                yield l;
            }
            default -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    m.put(randomString(r), randomValue(r, depth + 1));
                }
                yield m;
            }
        };
    }

    private static String randomString(SplittableRandom r) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(8); i > 0; i--) {
            b.append((char) (r.nextBoolean() ? r.nextInt(0x20, 0x7f) : r.nextInt(0, 0xd7ff)));
        }
        return b.toString();
    }

    /** gson's tree and ours hold the same values (numbers compared by value). */
    private static void assertSame(JsonElement g, Object ours, String doc) {
        if (g.isJsonNull()) {
            assertNull(ours, doc);
        } else if (g.isJsonObject()) {
            Map<String, Object> m = Json.object(ours);
            assertEquals(g.getAsJsonObject().keySet(), m.keySet(), doc);
            g.getAsJsonObject().entrySet().forEach(e -> assertSame(e.getValue(), m.get(e.getKey()), doc));
        } else if (g.isJsonArray()) {
            List<Object> l = Json.array(ours);
            assertEquals(g.getAsJsonArray().size(), l.size(), doc);
            for (int i = 0; i < l.size(); i++) {
                assertSame(g.getAsJsonArray().get(i), l.get(i), doc);
            }
        } else if (g.getAsJsonPrimitive().isBoolean()) {
            assertEquals(g.getAsBoolean(), ours, doc);
        } else if (g.getAsJsonPrimitive().isString()) {
            assertEquals(g.getAsString(), ours, doc);
        } else if (ours instanceof Long l) {
            assertEquals(0, new BigDecimal(g.getAsString()).compareTo(BigDecimal.valueOf(l)), doc);
        } else if (ours instanceof java.math.BigInteger big) {
            assertEquals(new BigDecimal(g.getAsString()).toBigIntegerExact(), big, doc);
        } else {
            assertEquals(Double.parseDouble(g.getAsString()), (Double) ours, doc);
        }
    }
}
