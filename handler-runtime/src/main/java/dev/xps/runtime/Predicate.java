package dev.xps.runtime;

import java.util.Locale;
import java.util.Optional;

/**
 * Which packets an entry point sees, as seen by the server: protocol and the service's (destination)
 * port range, optionally narrowed by the client's (source) port range and the source and
 * destination networks. Built fluently: {@code Predicate.tcp(6379).from(IpPrefix.parse("10.0.0.0/8"))}.
 */
public record Predicate(Protocol protocol, PortRange dstPort, Optional<PortRange> srcPort,
                        Optional<IpPrefix> srcAddress, Optional<IpPrefix> dstAddress) {

    public static Predicate tcp(int port) {
        return of(Protocol.TCP, PortRange.of(port));
    }

    public static Predicate tcp(int low, int high) {
        return of(Protocol.TCP, PortRange.of(low, high));
    }

    public static Predicate udp(int port) {
        return of(Protocol.UDP, PortRange.of(port));
    }

    public static Predicate udp(int low, int high) {
        return of(Protocol.UDP, PortRange.of(low, high));
    }

    public static Predicate of(Protocol protocol, PortRange dstPort) {
        return new Predicate(protocol, dstPort, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** Only packets from client ports {@code low..high}. */
    public Predicate sport(int low, int high) {
        return new Predicate(protocol, dstPort, Optional.of(PortRange.of(low, high)), srcAddress, dstAddress);
    }

    /** Only packets from {@code source}. */
    public Predicate from(IpPrefix source) {
        return new Predicate(protocol, dstPort, srcPort, Optional.of(source), dstAddress);
    }

    /** Only packets to {@code destination}. */
    public Predicate to(IpPrefix destination) {
        return new Predicate(protocol, dstPort, srcPort, srcAddress, Optional.of(destination));
    }

    /** An IPv4 packet: addresses as {@code int}s in network order ({@code 10.0.0.1} is {@code 0x0A000001}). */
    public boolean matches(Protocol protocol, int srcAddress, int srcPort, int dstAddress, int dstPort) {
        return matches(protocol, ipv4(srcAddress), srcPort, ipv4(dstAddress), dstPort);
    }

    /**
     * A packet of either family: addresses as 4 or 16 bytes in network order (IPv4-mapped IPv6 addresses count as
     * IPv4). A prefix matches only addresses of its own family, so an entry with {@code from 0.0.0.0/0} sees IPv4
     * only, and one with an IPv6 prefix IPv6 only — as on every target.
     */
    public boolean matches(Protocol protocol, byte[] srcAddress, int srcPort, byte[] dstAddress, int dstPort) {
        return protocol == this.protocol
                && this.dstPort.contains(dstPort)
                && this.srcPort.map(r -> r.contains(srcPort)).orElse(true)
                && this.srcAddress.map(p -> p.contains(srcAddress)).orElse(true)
                && this.dstAddress.map(p -> p.contains(dstAddress)).orElse(true);
    }

    private static byte[] ipv4(int a) {
        return new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a};
    }

    /** The predicate as the source spells it: {@code tcp port 6379 from 10.0.0.0/8}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(protocol.name().toLowerCase(Locale.ROOT)).append(" port ").append(dstPort);
        srcPort.ifPresent(p -> s.append(" sport ").append(p));
        srcAddress.ifPresent(a -> s.append(" from ").append(a));
        dstAddress.ifPresent(a -> s.append(" to ").append(a));
        return s.toString();
    }
}
