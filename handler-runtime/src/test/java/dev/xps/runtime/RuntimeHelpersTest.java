package dev.xps.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class RuntimeHelpersTest {
    @Test
    void shiftsOfSixtyFourOrMoreGiveZero() {
        assertEquals(2, U64.shl(1, 1));
        assertEquals(Long.MIN_VALUE, U64.shl(1, 63));
        assertEquals(0, U64.shl(1, 64));
        assertEquals(0, U64.shl(1, -1L));
        assertEquals(1, U64.shr(Long.MIN_VALUE, 63));
        assertEquals(0, U64.shr(-1L, 64));
        assertEquals(0x7FFF_FFFF_FFFF_FFFFL, U64.shr(-1L, 1));
    }

    @Test
    void responseEncodesEveryItem() {
        Response out = new Response(1);
        out.append(Bytes.ascii("$")).decimal(0).decimal(1234).decimal(-1L)
                .u8(0x1FF).u16be(0x0102).u16le(0x0102).u32be(1).u32le(1).u64be(1).u64le(1)
                .uint(0x010203, 3, ByteOrder.BIG_ENDIAN);
        byte[] expected = concat(Bytes.ascii("$012341844674407370955161 5".replace(" ", "")),
                Bytes.hex("ff 0102 0201 00000001 01000000 0000000000000001 0100000000000000 010203"));
        assertArrayEquals(expected, out.toByteArray());
    }

    @Test
    void responseTruncates() {
        Response out = new Response();
        out.append(Bytes.ascii("abc"));
        int mark = out.length();
        out.append(Bytes.ascii("def"));
        out.truncate(mark);
        assertArrayEquals(Bytes.ascii("abc"), out.toByteArray());
    }

    @Test
    void bytesHelpers() {
        assertArrayEquals(new byte[] {0, (byte) 0xFF, 0x10}, Bytes.hex("00ff_10"));
        assertEquals("a\\r\\n\\x00\\xff\\\"\\\\", Bytes.escape(Bytes.ascii("a\r\n\u0000\u00ff\"\\")));
        assertEquals("00ff", Bytes.toHex(new byte[] {0, -1}));
    }

    @Test
    void mapLayoutIsLittleEndianAndTruncates() {
        assertArrayEquals(new byte[] {0x34, 0x12}, MapLayout.encodeInt(0xAB1234, 2));
        assertEquals(0xFFFF_FFFFL, MapLayout.decodeInt(new byte[] {-1, -1, -1, -1}));
    }

    @Test
    void predicatesMatchTheFiveTuple() {
        int tenOne = 0x0A000001;
        Predicate p = Predicate.tcp(6379).sport(1000, 2000).from(Ipv4Prefix.parse("10.0.0.0/8"));
        assertTrue(p.matches(Protocol.TCP, tenOne, 1500, 0, 6379));
        assertFalse(p.matches(Protocol.UDP, tenOne, 1500, 0, 6379));
        assertFalse(p.matches(Protocol.TCP, tenOne, 999, 0, 6379));
        assertFalse(p.matches(Protocol.TCP, 0x0B000001, 1500, 0, 6379));
        assertFalse(p.matches(Protocol.TCP, tenOne, 1500, 0, 6380));
        assertEquals("tcp port 6379 sport 1000..2000 from 10.0.0.0/8", p.toString());
        assertTrue(Predicate.udp(1, 5).to(Ipv4Prefix.parse("0.0.0.0/0")).matches(Protocol.UDP, 0, 0, -1, 5));
    }

    @Test
    void prefixes() {
        assertEquals("192.168.1.0/24", Ipv4Prefix.parse("192.168.1.77/24").toString());
        assertTrue(Ipv4Prefix.parse("255.255.255.255").contains(-1));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
