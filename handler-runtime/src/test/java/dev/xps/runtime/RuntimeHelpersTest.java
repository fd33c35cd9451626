package dev.xps.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.List;
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
    void ipv6PrefixesParseAndPrintAsRfc5952() {
        assertEquals("fd00::/8", Ipv6Prefix.parse("FD00:0:0::0/8").toString());
        assertEquals("::1/128", Ipv6Prefix.parse("::1").toString());
        assertEquals("::/0", Ipv6Prefix.parse("::/0").toString());
        assertEquals("2001:db8::1:0:0:1/128", Ipv6Prefix.parse("2001:0db8:0:0:1:0:0:1").toString(),
                "the first of two equal zero runs is the one shortened");
        assertEquals("2001:db8:0:1:1:1:1:1/128", Ipv6Prefix.parse("2001:db8::1:1:1:1:1").toString(),
                "a single zero group is not shortened");
        assertEquals("fd00::/16", Ipv6Prefix.parse("fd00::99/16").toString(), "host bits are dropped");
        assertInstanceOf(Ipv6Prefix.class, IpPrefix.parse("fd00::/8"));
        assertInstanceOf(Ipv4Prefix.class, IpPrefix.parse("10.0.0.0/8"));
        for (String bad : List.of("1::2::3", "fd00:::1", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::",
                "fd00::/129", "fd00::/", "g::1", "::/1/2")) {
            assertThrows(IllegalArgumentException.class, () -> Ipv6Prefix.parse(bad), bad);
        }
    }

    @Test
    void aPrefixMatchesOnlyAddressesOfItsOwnFamily() {
        byte[] v6 = address("fd00:1::5");
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 10, 0, 0, 1}; // ::ffff:10.0.0.1 (InetAddress would make it 4)
        byte[] v4 = {10, 0, 0, 1};
        Predicate any4 = Predicate.udp(5).from(IpPrefix.parse("0.0.0.0/0"));
        assertTrue(any4.matches(Protocol.UDP, v4, 1, v4, 5));
        assertTrue(any4.matches(Protocol.UDP, mapped, 1, v4, 5), "an IPv4 client on a dual-stack socket");
        assertFalse(any4.matches(Protocol.UDP, v6, 1, v6, 5), "0.0.0.0/0 is IPv4 only");
        Predicate ula = Predicate.udp(5).from(IpPrefix.parse("fd00::/8"));
        assertTrue(ula.matches(Protocol.UDP, v6, 1, v6, 5));
        assertFalse(ula.matches(Protocol.UDP, address("fe80::1"), 1, v6, 5));
        assertFalse(Predicate.udp(5).from(IpPrefix.parse("::/0")).matches(Protocol.UDP, mapped, 1, v4, 5),
                "::/0 is native IPv6 only: a v4-mapped client is IPv4");
        assertFalse(ula.matches(Protocol.UDP, new byte[0], 1, v6, 5), "no address: no prefix matches");
        assertTrue(Predicate.udp(5).matches(Protocol.UDP, v6, 1, v6, 5), "no prefix: both families");
        assertEquals("udp port 5 from fd00::/8", ula.toString());
    }

    private static byte[] address(String literal) {
        try {
            return java.net.InetAddress.getByName(literal).getAddress(); // a literal: no name lookup
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
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
