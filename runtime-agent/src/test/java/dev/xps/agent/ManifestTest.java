package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Artifacts;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The manifest reader and the canonical ↔ kernel layouts, on a real manifest from bin/xpsc. */
class ManifestTest {

    @Test
    void readsTheRedisManifest() throws Exception {
        Manifest m = Manifest.read(Manifest.locate(Artifacts.sample("redis-get")));
        assertEquals("redis-get.bpf.o", m.object());
        Manifest.Entry e = m.entries().getFirst();
        assertEquals("redis", e.name());
        assertTrue(e.tcp());
        assertEquals(6379, e.portLow());
        assertEquals("redis_socks", e.sockhash().orElseThrow());
        assertEquals(List.of("redis_sockops", "redis_verdict", "redis_egress"),
                e.programs().stream().map(Manifest.Program::name).toList());
        assertEquals("redis_handlers", e.progArray().orElseThrow());
        assertEquals(List.of("get", "set", "del"), e.slots().stream().map(Manifest.Slot::program).toList());
        Manifest.MapDef cache = m.map("cache");
        assertEquals("cache_hits", cache.stats().orElseThrow());
        assertEquals(List.of("tx", "drop", "pass", "reset", "malformed", "incomplete", "fallback", "unsynced"),
                m.counterFields());
        assertEquals("xps_resets", m.resetsMap().orElseThrow());
        assertEquals(java.util.Optional.of("xps_drain"), m.drainMap(), "a TCP context has a drain switch");

        byte[] k = cache.key().toKernel("foo".getBytes());
        assertEquals(36, k.length);
        assertEquals("03000000666f6f" + "00".repeat(29), HexFormat.of().formatHex(k));
        assertArrayEquals("foo".getBytes(), cache.key().toCanonical(k));
        assertThrows(IllegalArgumentException.class, () -> cache.key().toKernel(new byte[33]));
    }

    @Test
    void integerLayouts() {
        var u16 = Manifest.Layout.of(Map.of("type", "u16", "size", 4L, "canonicalSize", 2L));
        assertArrayEquals(new byte[] {0x34, 0x12, 0, 0}, u16.toKernel(new byte[] {0x34, 0x12}));
        assertArrayEquals(new byte[] {0x34, 0x12}, u16.toCanonical(new byte[] {0x34, 0x12, 0, 0}));
        assertArrayEquals(new byte[] {0x34, 0x12}, u16.parse("0x1234"));
        assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xff}, u16.parse("65535"));
        assertThrows(IllegalArgumentException.class, () -> u16.parse("65536"));
        assertEquals("4660", u16.format(new byte[] {0x34, 0x12}));
        var u64 = Manifest.Layout.of(Map.of("type", "u64", "size", 8L));
        assertEquals("18446744073709551615", u64.format(u64.parse("18446744073709551615")));
    }

    @Test
    void jsonRoundTrip() {
        Object v = Json.parse("{\"a\": [1, 2.5, \"x\\\"y\\u0041\", true, null], \"b\": {}}");
        assertEquals("{\"a\":[1,2.5,\"x\\\"yA\",true,null],\"b\":{}}", Json.write(v));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": 1} x"));
        assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse("{\"format\": \"other\", \"version\": 1}"));
    }
}
