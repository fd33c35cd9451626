package dev.xps.compiler.ir;

/** An IPv4 network: {@code address} is the network address as an unsigned 32-bit value. */
public record Ipv4Prefix(long address, int prefixLength) implements IpPrefix {
    @Override
    public boolean isIpv6() {
        return false;
    }

    public long mask() {
        return prefixLength == 0 ? 0 : (0xFFFF_FFFFL << (32 - prefixLength)) & 0xFFFF_FFFFL;
    }

    public boolean contains(long ip) {
        return (ip & mask()) == address;
    }

    @Override
    public boolean overlaps(IpPrefix o) {
        if (!(o instanceof Ipv4Prefix other)) {
            return false;
        }
        long common = prefixLength < other.prefixLength ? mask() : other.mask();
        return (address & common) == (other.address & common);
    }

    @Override
    public String toString() {
        return ((address >> 24) & 255) + "." + ((address >> 16) & 255) + "." + ((address >> 8) & 255)
                + "." + (address & 255) + "/" + prefixLength;
    }
}
