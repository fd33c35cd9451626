package dev.xps.runtime;

/**
 * An IPv4 network. Addresses are {@code int}s holding the address's 32 bits in network order
 * ({@code 10.0.0.1} is {@code 0x0A000001}).
 */
public record Ipv4Prefix(int address, int prefixLength) implements IpPrefix {
    public Ipv4Prefix {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
        // Host bits mean nothing in a prefix: 10.1.2.3/8 is 10.0.0.0/8.
        address &= mask(prefixLength);
    }

    /** {@code "10.0.0.0/8"}, or a single address {@code "10.0.0.1"} (a /32). */
    public static Ipv4Prefix parse(String text) {
        int slash = text.indexOf('/');
        String addressText = slash < 0 ? text : text.substring(0, slash);
        int length = slash < 0 ? 32 : Integer.parseInt(text.substring(slash + 1));
        String[] parts = addressText.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        int address = 0;
        for (String part : parts) {
            int octet = Integer.parseInt(part);
            if (octet < 0 || octet > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            address = (address << 8) | octet;
        }
        return new Ipv4Prefix(address, length);
    }

    public boolean contains(int ip) {
        return (ip & mask(prefixLength)) == address;
    }

    @Override
    public boolean isIpv6() {
        return false;
    }

    /** IPv4 addresses (4 bytes, or 16 that are IPv4-mapped) only: a native IPv6 address never lies in it. */
    @Override
    public boolean contains(byte[] address) {
        long v4 = IpPrefix.ipv4Of(address);
        return v4 >= 0 && contains((int) v4);
    }

    private static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    private static String format(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    @Override
    public String toString() {
        return format(address) + "/" + prefixLength;
    }
}
