package dev.xps.consensus;

import java.net.Inet4Address;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One member of a consensus group: its index, IPv4 address and MAC address. The data plane writes
 * frames to members itself, so it needs the MAC; the host-only baseline ignores it.
 */
public record Member(int index, Inet4Address address, byte[] mac) {
    public Member {
        if (index < 0 || index >= dev.xps.consensus.wire.Wire.MAX_MEMBERS) {
            throw new IllegalArgumentException("member index must be 0..62, got " + index);
        }
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(mac, "mac");
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, got " + mac.length);
        }
        mac = mac.clone();
    }

    @Override
    public byte[] mac() {
        return mac.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Member m && m.index == index && m.address.equals(address)
                && java.util.Arrays.equals(m.mac, mac);
    }

    @Override
    public int hashCode() {
        return Objects.hash(index, address, java.util.Arrays.hashCode(mac));
    }

    @Override
    public String toString() {
        return "member " + index + " " + address.getHostAddress() + " " + HexFormat.ofDelimiter(":").formatHex(mac);
    }
}
