package dev.xps.compiler.ir;

/**
 * A network in an address predicate ({@code from}, {@code to}): IPv4 or IPv6. A prefix of one family never
 * matches an address of the other (an IPv4 client on a dual-stack socket is IPv4: its v4-mapped address is
 * compared with IPv4 prefixes only).
 */
public sealed interface IpPrefix permits Ipv4Prefix, Ipv6Prefix {
    int prefixLength();

    boolean isIpv6();

    /** True when some address lies in both networks: never across families. */
    boolean overlaps(IpPrefix other);
}
