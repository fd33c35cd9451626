// SPDX-License-Identifier: GPL-2.0
// The consensus tests' switch ports (VrNet): XDP_PASS, except frames between two members the test has
// partitioned (source MAC -> destination MAC pairs in `blocked`), which are dropped. An XDP program must be
// on these veth ends anyway (frames the members send with XDP_TX arrive only where the peer runs XDP);
// partitioning here cuts unicast traffic in both directions while each member stays reachable by the rest
// (tc classifiers and actions are not built into this kernel).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct mac_pair {
    __u8 src[ETH_ALEN];
    __u8 dst[ETH_ALEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct mac_pair);
    __type(value, __u8);
} blocked SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} dropped SEC(".maps");

SEC("xdp")
int xdp_switch(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct mac_pair p;
    __u32 zero = 0;
    __u64 *n;

    if ((void *)(eth + 1) > end)
        return XDP_PASS;
    __builtin_memcpy(p.src, eth->h_source, ETH_ALEN);
    __builtin_memcpy(p.dst, eth->h_dest, ETH_ALEN);
    if (!bpf_map_lookup_elem(&blocked, &p))
        return XDP_PASS;
    n = bpf_map_lookup_elem(&dropped, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
