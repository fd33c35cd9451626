package dev.xps.agent.bpf;

/** How an XDP program is attached ({@code XDP_FLAGS_*_MODE}). */
public enum XdpMode {
    /** Let the kernel choose: native if the driver supports it, else generic. */
    AUTO(0),
    /** Generic (skb) mode: works on every device, including veth, after the skb is built. */
    GENERIC(2),
    /** Native (driver) mode. On veth, packets only reach it if the peer also has an XDP program. */
    NATIVE(4),
    /** Offloaded to the NIC. */
    OFFLOAD(8);

    final int flags;

    XdpMode(int flags) {
        this.flags = flags;
    }

    /** The {@code XDP_FLAGS_*} bit. */
    public int flags() {
        return flags;
    }
}
