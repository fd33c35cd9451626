package dev.xps.runtime;

/**
 * A network in a predicate's {@code from} / {@code to}: IPv4 or IPv6. Addresses are given as 4 or 16 bytes in
 * network order; a prefix never matches an address of the other family, and an IPv4-mapped IPv6 address
 * ({@code ::ffff:a.b.c.d}, an IPv4 client on a dual-stack socket) is IPv4.
 */
public sealed interface IpPrefix permits Ipv4Prefix, Ipv6Prefix {
    int prefixLength();

    boolean isIpv6();

    /** Whether {@code address} (4 or 16 bytes, network order) lies in this network. */
    boolean contains(byte[] address);

    /** {@code "10.0.0.0/8"}, {@code "fd00::/8"}, or a single address (a /32 or /128). */
    static IpPrefix parse(String text) {
        return text.indexOf(':') >= 0 ? Ipv6Prefix.parse(text) : Ipv4Prefix.parse(text);
    }

    /** The IPv4 address in {@code address} (4 bytes, or 16 that are IPv4-mapped) as an unsigned value, else -1. */
    static long ipv4Of(byte[] address) {
        if (address.length == 4) {
            return ((address[0] & 0xFFL) << 24) | ((address[1] & 0xFFL) << 16) | ((address[2] & 0xFFL) << 8)
                    | (address[3] & 0xFFL);
        }
        if (address.length == 16) {
            for (int i = 0; i < 10; i++) {
                if (address[i] != 0) {
                    return -1;
                }
            }
            if (address[10] == (byte) 0xFF && address[11] == (byte) 0xFF) {
                return ((address[12] & 0xFFL) << 24) | ((address[13] & 0xFFL) << 16) | ((address[14] & 0xFFL) << 8)
                        | (address[15] & 0xFFL);
            }
        }
        return -1;
    }
}
