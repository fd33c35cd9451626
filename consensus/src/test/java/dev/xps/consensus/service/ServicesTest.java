package dev.xps.consensus.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The sample services' byte formats (the ones consensus/README.md documents) and their snapshots. */
class ServicesTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final InetSocketAddress CLIENT = new InetSocketAddress("10.0.0.9", 4000);

    @Test
    void timestampRepliesCarryTheOp() {
        TimestampService t = new TimestampService();
        assertEquals("0100000007", HEX.formatHex(TimestampService.next(7)));
        byte[] r = t.execute(1, CLIENT, TimestampService.next(7));
        assertEquals("81" + "00000007" + "0000000000000001", HEX.formatHex(r));
        assertEquals(1, TimestampService.timestamp(r));
        assertNull(t.execute(2, CLIENT, HEX.parseHex("0100")), "a runt takes an op and gets no reply");
        assertEquals(0, t.outOfOrder());
        t.execute(4, CLIENT, TimestampService.next(8));
        assertEquals(1, t.outOfOrder(), "a skipped op is caught");
        assertArrayEquals(HEX.parseHex("820000002a"),
                TimestampService.probes().handle(CLIENT, HEX.parseHex("020000002a")));
        assertNull(TimestampService.probes().handle(CLIENT, HEX.parseHex("090000002a")));
        TimestampService copy = new TimestampService();
        copy.restore(t.snapshot());
        assertEquals(4, copy.last());
        assertEquals(3, copy.executed());
    }

    @Test
    void kvFormatsFollowTheSample() {
        KvService kv = new KvService();
        byte[] put = KvService.put(8, "color", "red".getBytes(StandardCharsets.ISO_8859_1));
        // samples/kv-replicated.xps: PUT is x"01 00000008 05" "color" x"0003" "red"
        assertEquals("01" + "00000008" + "05" + HEX.formatHex("color".getBytes()) + "0003"
                + HEX.formatHex("red".getBytes()), HEX.formatHex(put));
        assertEquals("8100000008", HEX.formatHex(kv.execute(1, CLIENT, put)));
        assertEquals("8200000007" + "0003" + HEX.formatHex("red".getBytes()),
                HEX.formatHex(kv.gets().handle(CLIENT, KvService.get(7, "color"))));
        assertEquals("8300000009" + "01", HEX.formatHex(kv.execute(2, CLIENT, KvService.delete(9, "color"))));
        assertEquals("8300000009" + "00", HEX.formatHex(kv.execute(3, CLIENT, KvService.delete(9, "color"))));
        assertEquals("c200000007", HEX.formatHex(kv.gets().handle(CLIENT, KvService.get(7, "color"))));
        assertEquals("ff0000000a", HEX.formatHex(kv.execute(4, CLIENT, HEX.parseHex("010000000a" + "05" + "6162"))));
        assertEquals(0, kv.outOfOrder());
        kv.execute(5, CLIENT, put);
        KvService copy = new KvService();
        copy.restore(kv.snapshot());
        assertArrayEquals("red".getBytes(), copy.contents().get("color"));
        assertEquals(5, copy.last());
        assertArrayEquals(kv.snapshot(), copy.snapshot());
    }
}
