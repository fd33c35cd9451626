package dev.xps.agent.bpf;

/** The {@code enum bpf_attach_type} values XPS uses (the kernel's numbers). */
public enum AttachType {
    CGROUP_INET_INGRESS(0),
    CGROUP_INET_EGRESS(1),
    CGROUP_SOCK_OPS(3),
    SK_SKB_STREAM_PARSER(4),
    SK_SKB_STREAM_VERDICT(5),
    SK_MSG_VERDICT(7),
    TRACE_ITER(28),
    XDP(37),
    SK_SKB_VERDICT(38),
    TCX_INGRESS(46),
    TCX_EGRESS(47);

    private final int value;

    AttachType(int value) {
        this.value = value;
    }

    /** The kernel's number. */
    public int value() {
        return value;
    }

    /** The constant for a kernel number, or null if this binding does not name it. */
    public static AttachType ofValue(int value) {
        for (AttachType t : values()) {
            if (t.value == value) {
                return t;
            }
        }
        return null;
    }
}
