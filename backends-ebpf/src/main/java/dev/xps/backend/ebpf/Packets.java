package dev.xps.backend.ebpf;

import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.Predicate;
import java.util.Arrays;
import java.util.Optional;

/**
 * Ethernet / IPv4 / UDP frames for the XDP test runs: a request that matches an entry point's
 * predicate, and the checks a reply must pass (addresses and ports swapped, valid checksums,
 * exactly the expected payload).
 */
final class Packets {
    static final byte[] CLIENT_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    static final byte[] SERVER_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    static final int HEADERS = 14 + 20 + 8;

    private Packets() {}

    /** The client and server ends of a request that matches {@code p}. */
    record Flow(long clientIp, long serverIp, int clientPort, int serverPort) {
        static Flow matching(Predicate p) {
            long client = p.srcAddress().map(Packets::hostIn).orElse(0x0A00_0002L);
            long server = p.dstAddress().map(Packets::hostIn).orElse(0x0A00_0001L);
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
