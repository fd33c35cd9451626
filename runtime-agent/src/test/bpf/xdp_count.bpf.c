// SPDX-License-Identifier: GPL-2.0
// Two trivial XDP_PASS programs counting packets into different slots (for attach, stats, link update),
// and a hash map whose data must survive an agent restart.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u64);
    __type(value, __u64);
} notes SEC(".maps");

static __always_inline void count_in(__u32 slot)
{
    __u64 *c = bpf_map_lookup_elem(&counts, &slot);
    if (c)
        __sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    count_in(0);
    return XDP_PASS;
}

SEC("xdp")
int xdp_count_alt(struct xdp_md *ctx)
{
    count_in(1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
