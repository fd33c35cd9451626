package dev.xps.backend.ebpf;

import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.Ipv6Prefix;
import dev.xps.compiler.ir.Predicate;
import java.util.Arrays;
import java.util.Optional;

/**
 * Ethernet / IPv4 / UDP and Ethernet / IPv6 / UDP frames for the XDP test runs: a request that matches an
 * entry point's predicate, and the checks a reply must pass (addresses and ports swapped, valid checksums,
 * exactly the expected payload). The checksums are computed here, independently of the runtime's.
 */
final class Packets {
    static final byte[] CLIENT_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    static final byte[] SERVER_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    static final int HEADERS = 14 + 20 + 8;
    static final int HEADERS6 = 14 + 40 + 8;
    static final int NEXT_UDP = 17;

    private Packets() {}

    /** The client and server ends of an IPv4 request that matches {@code p} (a predicate without IPv6 prefixes). */
    record Flow(long clientIp, long serverIp, int clientPort, int serverPort) {
        static Flow matching(Predicate p) {
            long client = p.srcAddress().map(a -> hostIn((Ipv4Prefix) a)).orElse(0x0A00_0002L);
            long server = p.dstAddress().map(a -> hostIn((Ipv4Prefix) a)).orElse(0x0A00_0001L);
            int clientPort = p.srcPort().map(r -> r.low()).orElse(40_000);
            return new Flow(client, server, clientPort, p.dstPort().low());
        }
    }

    /** An address in the prefix: its first host when it has hosts, else the address itself. */
    private static long hostIn(Ipv4Prefix prefix) {
        return prefix.prefixLength() >= 31 ? prefix.address() : prefix.address() + 1;
    }

    static byte[] request(Flow f, byte[] payload) {
        byte[] p = new byte[HEADERS + payload.length];
        System.arraycopy(SERVER_MAC, 0, p, 0, 6);
        System.arraycopy(CLIENT_MAC, 0, p, 6, 6);
        p[12] = 0x08;
        p[13] = 0x00;
        ipv4(p, f.clientIp(), f.serverIp(), payload.length, 0x1234, 0x4000);
        udp(p, f.clientIp(), f.serverIp(), f.clientPort(), f.serverPort(), payload);
        return p;
    }

    private static void ipv4(byte[] p, long src, long dst, int payload, int id, int frag) {
        int at = 14;
        p[at] = 0x45;
        put16(p, at + 2, 20 + 8 + payload);
        put16(p, at + 4, id);
        put16(p, at + 6, frag);
        p[at + 8] = 64;
        p[at + 9] = 17;
        put32(p, at + 12, src);
        put32(p, at + 16, dst);
        put16(p, at + 10, ~sum(p, at, 20, 0) & 0xFFFF);
    }

    private static void udp(byte[] p, long src, long dst, int sport, int dport, byte[] payload) {
        int at = 34;
        put16(p, at, sport);
        put16(p, at + 2, dport);
        put16(p, at + 4, 8 + payload.length);
        System.arraycopy(payload, 0, p, HEADERS, payload.length);
        int check = ~sum(p, at, 8 + payload.length, pseudo(src, dst, 8 + payload.length)) & 0xFFFF;
        put16(p, at + 6, check == 0 ? 0xFFFF : check);
    }

    private static long pseudo(long src, long dst, int udpLength) {
        return (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 17 + udpLength;
    }

    /** The ones' complement sum of {@code len} bytes at {@code at}, folded to 16 bits. */
    private static int sum(byte[] p, int at, int len, long seed) {
        long s = seed;
        for (int i = 0; i < len; i += 2) {
            int hi = p[at + i] & 0xFF;
            int lo = i + 1 < len ? p[at + i + 1] & 0xFF : 0;
            s += (hi << 8) | lo;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /**
     * What is wrong with {@code reply} as the answer to a request of flow {@code f} carrying
     * {@code payload}; empty when it is right.
     */
    static Optional<String> checkReply(Flow f, byte[] reply, byte[] payload) {
        if (reply.length < HEADERS) {
            return Optional.of("the reply is " + reply.length + " bytes, shorter than its headers");
        }
        if (!Arrays.equals(reply, 0, 6, CLIENT_MAC, 0, 6) || !Arrays.equals(reply, 6, 12, SERVER_MAC, 0, 6)) {
            return Optional.of("the reply's MAC addresses are not the request's, swapped");
        }
        if (get16(reply, 12) != 0x0800 || (reply[14] & 0xFF) != 0x45 || (reply[23] & 0xFF) != 17) {
            return Optional.of("the reply is not IPv4 (no options) / UDP");
        }
        if (get32(reply, 26) != f.serverIp() || get32(reply, 30) != f.clientIp()) {
            return Optional.of("the reply's IP addresses are not the request's, swapped");
        }
        if (get16(reply, 34) != f.serverPort() || get16(reply, 36) != f.clientPort()) {
            return Optional.of("the reply's ports are not the request's, swapped");
        }
        int ipLength = get16(reply, 16);
        int udpLength = get16(reply, 38);
        if (ipLength != reply.length - 14 || udpLength != reply.length - 34) {
            return Optional.of("the reply's lengths (IP " + ipLength + ", UDP " + udpLength + ") do not match its "
                    + reply.length + " bytes");
        }
        if (sum(reply, 14, 20, 0) != 0xFFFF) {
            return Optional.of("the reply's IP header checksum is wrong");
        }
        // 0 would mean "no checksum" (allowed for IPv4), but xps_xdp_reply always computes one: 0 here is a bug.
        if (get16(reply, 40) == 0) {
            return Optional.of("the reply has no UDP checksum (0)");
        }
        if (sum(reply, 34, udpLength, pseudo(f.serverIp(), f.clientIp(), udpLength)) != 0xFFFF) {
            return Optional.of("the reply's UDP checksum is wrong");
        }
        return Optional.empty();
    }

    static byte[] payloadOf(byte[] reply) {
        return Arrays.copyOfRange(reply, Math.min(HEADERS, reply.length), reply.length);
    }

    // ------------------------------------------------------------------ IPv6

    /** The client and server ends of an IPv6 datagram; addresses are 16 bytes. */
    record Flow6(byte[] clientIp, byte[] serverIp, int clientPort, int serverPort) {
        Flow6 {
            if (clientIp.length != 16 || serverIp.length != 16) {
                throw new IllegalArgumentException("IPv6 addresses are 16 bytes");
            }
        }

        /** On the predicate's ports, from and to its IPv6 prefixes' first hosts; fd00::2 to fd00::1 without them. */
        static Flow6 matching(Predicate p) {
            int clientPort = p.srcPort().map(r -> r.low()).orElse(40_000);
            byte[] client = p.srcAddress().filter(a -> a instanceof Ipv6Prefix).map(a -> hostIn6((Ipv6Prefix) a))
                    .orElse(ula(2));
            byte[] server = p.dstAddress().filter(a -> a instanceof Ipv6Prefix).map(a -> hostIn6((Ipv6Prefix) a))
                    .orElse(ula(1));
            return new Flow6(client, server, clientPort, p.dstPort().low());
        }

        @Override
        public String toString() {
            return "Flow6[" + java.util.HexFormat.of().formatHex(clientIp) + " " + clientPort + " -> "
                    + java.util.HexFormat.of().formatHex(serverIp) + " " + serverPort + "]";
        }
    }

    /** An address in an IPv6 prefix: its first host (network + 1) when it has more than one, else itself. */
    static byte[] hostIn6(Ipv6Prefix prefix) {
        byte[] a = prefix.bytes();
        if (prefix.prefixLength() < 127) {
            a[15] |= 1;
        }
        return a;
    }

    /** fd00::{@code host}. */
    static byte[] ula(int host) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xFD;
        a[14] = (byte) (host >>> 8);
        a[15] = (byte) host;
        return a;
    }

    /** An Ethernet / IPv6 / UDP request (traffic class 0, flow label 0x12345, hop limit 64). */
    static byte[] request6(Flow6 f, byte[] payload) {
        byte[] p = new byte[HEADERS6 + payload.length];
        System.arraycopy(SERVER_MAC, 0, p, 0, 6);
        System.arraycopy(CLIENT_MAC, 0, p, 6, 6);
        p[12] = (byte) 0x86;
        p[13] = (byte) 0xDD;
        put32(p, 14, 0x6001_2345L);
        put16(p, 18, 8 + payload.length);
        p[20] = NEXT_UDP;
        p[21] = 64;
        System.arraycopy(f.clientIp(), 0, p, 22, 16);
        System.arraycopy(f.serverIp(), 0, p, 38, 16);
        int at = 54;
        put16(p, at, f.clientPort());
        put16(p, at + 2, f.serverPort());
        put16(p, at + 4, 8 + payload.length);
        System.arraycopy(payload, 0, p, HEADERS6, payload.length);
        int check = ~sum(p, at, 8 + payload.length, pseudo6(f.clientIp(), f.serverIp(), 8 + payload.length)) & 0xFFFF;
        put16(p, at + 6, check == 0 ? 0xFFFF : check);
        return p;
    }

    /**
     * A request as {@link #request6} makes it, with a {@code size}-byte extension header of type {@code next}
     * (a hop-by-hop options, routing, fragment ... header) between the IPv6 and the UDP header.
     */
    static byte[] request6WithExtension(Flow6 f, byte[] payload, int next, int size) {
        byte[] plain = request6(f, payload);
        byte[] p = new byte[plain.length + size];
        System.arraycopy(plain, 0, p, 0, 54);
        System.arraycopy(plain, 54, p, 54 + size, plain.length - 54);
        put16(p, 18, size + 8 + payload.length);
        p[20] = (byte) next;
        p[54] = NEXT_UDP;                   // the extension's own next header: UDP
        p[55] = (byte) (size / 8 - 1);      // its length in 8-byte units, less the first (0 for a fragment header)
        return p;
    }

    /** The IPv6 pseudo-header's sum (RFC 8200 8.1): addresses, upper-layer length, next header. */
    private static long pseudo6(byte[] src, byte[] dst, int udpLength) {
        long s = 0;
        for (int i = 0; i < 16; i += 2) {
            s += get16(src, i) + get16(dst, i);
        }
        return s + udpLength + NEXT_UDP;
    }

    /**
     * What is wrong with {@code reply} as the IPv6 answer to a request of flow {@code f}; empty when it is right
     * (the payload itself is compared by the caller).
     */
    static Optional<String> checkReply6(Flow6 f, byte[] reply, byte[] payload) {
        if (reply.length < HEADERS6) {
            return Optional.of("the reply is " + reply.length + " bytes, shorter than its headers");
        }
        if (!Arrays.equals(reply, 0, 6, CLIENT_MAC, 0, 6) || !Arrays.equals(reply, 6, 12, SERVER_MAC, 0, 6)) {
            return Optional.of("the reply's MAC addresses are not the request's, swapped");
        }
        if (get16(reply, 12) != 0x86DD || (reply[14] & 0xF0) != 0x60 || (reply[20] & 0xFF) != NEXT_UDP) {
            return Optional.of("the reply is not IPv6 (no extension headers) / UDP");
        }
        if ((reply[21] & 0xFF) != 64) {
            return Optional.of("the reply's hop limit is " + (reply[21] & 0xFF) + ", not 64");
        }
        if (!Arrays.equals(reply, 22, 38, f.serverIp(), 0, 16) || !Arrays.equals(reply, 38, 54, f.clientIp(), 0, 16)) {
            return Optional.of("the reply's IPv6 addresses are not the request's, swapped");
        }
        if (get16(reply, 54) != f.serverPort() || get16(reply, 56) != f.clientPort()) {
            return Optional.of("the reply's ports are not the request's, swapped");
        }
        int ipPayload = get16(reply, 18);
        int udpLength = get16(reply, 58);
        if (ipPayload != reply.length - 54 || udpLength != reply.length - 54 || udpLength != 8 + payload.length) {
            return Optional.of("the reply's lengths (IPv6 payload " + ipPayload + ", UDP " + udpLength
                    + ") do not match its " + reply.length + " bytes");
        }
        if (get16(reply, 60) == 0) {
            return Optional.of("the reply has no UDP checksum (0, invalid over IPv6)");
        }
        if (sum(reply, 54, udpLength, pseudo6(f.serverIp(), f.clientIp(), udpLength)) != 0xFFFF) {
            return Optional.of("the reply's UDP checksum is wrong");
        }
        return Optional.empty();
    }

    static byte[] payloadOf6(byte[] reply) {
        return Arrays.copyOfRange(reply, Math.min(HEADERS6, reply.length), reply.length);
    }

    private static void put16(byte[] p, int at, int v) {
        p[at] = (byte) (v >>> 8);
        p[at + 1] = (byte) v;
    }

    private static void put32(byte[] p, int at, long v) {
        put16(p, at, (int) (v >>> 16) & 0xFFFF);
        put16(p, at + 2, (int) v & 0xFFFF);
    }

    private static int get16(byte[] p, int at) {
        return ((p[at] & 0xFF) << 8) | (p[at + 1] & 0xFF);
    }

    private static long get32(byte[] p, int at) {
        return ((long) get16(p, at) << 16) | get16(p, at + 2);
    }
}
