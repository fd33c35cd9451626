package dev.xps.agent.bpf;

/**
 * What the kernel says about a link ({@code struct bpf_link_info}).
 *
 * @param type the kernel's link type number ({@link #typeName()} names it)
 * @param id the kernel-wide link id (as {@code bpftool link} shows it)
 * @param programId the attached program's id (0 once the link is detached)
 * @param cgroupId for a cgroup link, the cgroup's id (its directory's inode number), else 0
 * @param ifindex for an XDP or tcx link, the interface index (0 once detached), else 0
 * @param mapId for a sockmap link, the map's id, else 0
 * @param attachType for cgroup, sockmap and tcx links, the attach type number, else -1
 */
public record LinkInfo(int type, int id, int programId, long cgroupId, int ifindex, int mapId, int attachType) {
    // struct bpf_link_info (linux/bpf.h; checked by StructLayoutTest). The sockmap member (kernel 6.10+)
    // is { __u32 map_id; __u32 attach_type; } at the union's offset.
    static final int SIZE = 48;
    static final int OFF_TYPE = 0;
    static final int OFF_ID = 4;
    static final int OFF_PROG_ID = 8;
    static final int OFF_UNION = 16;
    static final int OFF_CGROUP_ATTACH_TYPE = 24;

    public static final int TYPE_CGROUP = 3;
    public static final int TYPE_ITER = 4;
    public static final int TYPE_NETNS = 5;
    public static final int TYPE_XDP = 6;
    public static final int TYPE_TCX = 11;
    public static final int TYPE_SOCKMAP = 14;

    /** {@code cgroup}, {@code xdp}, {@code sockmap}, ... */
    public String typeName() {
        return switch (type) {
            case 1 -> "raw_tracepoint";
            case 2 -> "tracing";
            case TYPE_CGROUP -> "cgroup";
            case TYPE_ITER -> "iter";
            case TYPE_NETNS -> "netns";
            case TYPE_XDP -> "xdp";
            case 7 -> "perf_event";
            case 8 -> "kprobe_multi";
            case 9 -> "struct_ops";
            case 10 -> "netfilter";
            case TYPE_TCX -> "tcx";
            case 12 -> "uprobe_multi";
            case 13 -> "netkit";
            case TYPE_SOCKMAP -> "sockmap";
            default -> "type" + type;
        };
    }

    /**
     * The link no longer attaches anything: it was detached ({@link BpfLink#detach()}) or its target went away
     * (cgroup removed, interface deleted, map freed). A detached link stays pinned until unpinned.
     */
    public boolean isDetached() {
        return switch (type) {
            case TYPE_CGROUP -> cgroupId == 0;
            case TYPE_XDP, TYPE_TCX -> ifindex == 0;
            case TYPE_SOCKMAP -> mapId == 0;
            default -> programId == 0;
        };
    }
}
