package dev.xps.compiler.ir;

import java.util.Optional;

/**
 * Which packets an entry point sees: the 5-tuple as seen by the server. {@code dstPort} is the
 * service's port; absent optional parts match anything.
 */
public record Predicate(Protocol protocol, PortRange dstPort, Optional<PortRange> srcPort,
                        Optional<IpPrefix> srcAddress, Optional<IpPrefix> dstAddress) {

    /** True when some packet could match both predicates. */
    public boolean overlaps(Predicate other) {
        return protocol == other.protocol
                && dstPort.overlaps(other.dstPort)
                && both(srcPort, other.srcPort, PortRange::overlaps)
                && both(srcAddress, other.srcAddress, IpPrefix::overlaps)
                && both(dstAddress, other.dstAddress, IpPrefix::overlaps)
                && !(family(this).isPresent() && family(other).isPresent() && family(this).get() != family(other).get());
    }

    /** True when an address part names IPv6: the entry then sees IPv6 connections and datagrams only. */
    public boolean isIpv6() {
        return family(this).orElse(false);
    }

    /** Whether the predicate's address parts are IPv6 (the analyzer rejects mixing families); empty if none. */
    private static Optional<Boolean> family(Predicate p) {
        return p.srcAddress.or(() -> p.dstAddress).map(IpPrefix::isIpv6);
    }

    private static <T> boolean both(Optional<T> a, Optional<T> b, java.util.function.BiPredicate<T, T> test) {
        return a.isEmpty() || b.isEmpty() || test.test(a.get(), b.get());
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(protocol.name().toLowerCase(java.util.Locale.ROOT))
                .append(" port ").append(dstPort);
        srcPort.ifPresent(p -> s.append(" sport ").append(p));
        srcAddress.ifPresent(a -> s.append(" from ").append(a));
        dstAddress.ifPresent(a -> s.append(" to ").append(a));
        return s.toString();
    }
}
