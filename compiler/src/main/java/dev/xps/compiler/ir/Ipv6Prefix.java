package dev.xps.compiler.ir;

/**
 * An IPv6 network: {@code high} and {@code low} are the network address's first and last 64 bits (host bits
 * zero), {@code prefixLength} 0..128. The text form is the runtime's (RFC 5952: {@code fd00::/8}).
 */
public record Ipv6Prefix(long high, long low, int prefixLength) implements IpPrefix {
    public Ipv6Prefix {
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
    }

    @Override
    public boolean isIpv6() {
        return true;
    }

    /** The mask of the first 64 bits. */
    public long highMask() {
        return dev.xps.runtime.Ipv6Prefix.highMask(prefixLength);
    }

    /** The mask of the last 64 bits. */
    public long lowMask() {
        return dev.xps.runtime.Ipv6Prefix.lowMask(prefixLength);
    }

    /** Whether the host bits of {@code high}/{@code low} are all zero. */
    public boolean isNetwork() {
        return (high & ~highMask()) == 0 && (low & ~lowMask()) == 0;
    }

    /** The same network with the host bits cleared. */
    public Ipv6Prefix network() {
        return new Ipv6Prefix(high & highMask(), low & lowMask(), prefixLength);
    }

    /** The address as 16 bytes, network order. */
    public byte[] bytes() {
        return bytes(high, low);
    }

    /** The 128-bit mask as 16 bytes. */
    public byte[] maskBytes() {
        return bytes(highMask(), lowMask());
    }

    private static byte[] bytes(long high, long low) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (high >>> (56 - 8 * i));
            b[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return b;
    }

    @Override
    public boolean overlaps(IpPrefix other) {
        if (!(other instanceof Ipv6Prefix o)) {
            return false;
        }
        Ipv6Prefix shorter = prefixLength <= o.prefixLength ? this : o;
        long hm = shorter.highMask();
        long lm = shorter.lowMask();
        return (high & hm) == (o.high & hm) && (low & lm) == (o.low & lm);
    }

    @Override
    public String toString() {
        return new dev.xps.runtime.Ipv6Prefix(high, low, prefixLength).toString();
    }
}
