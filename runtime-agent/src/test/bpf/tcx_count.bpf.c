// SPDX-License-Identifier: GPL-2.0
// A TC program (SEC("tc"): sched_cls) that counts IPv4 packets and lets them through, for tcx attachment
// tests: slot 0 counts where it runs (ingress or egress: the test attaches it to one of them at a time).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} tc_counts SEC(".maps");

SEC("tc")
int tcx_count(struct __sk_buff *skb)
{
    __u32 slot = 0;
    __u64 *c = bpf_map_lookup_elem(&tc_counts, &slot);
    if (c && skb->protocol == __builtin_bswap16(0x0800))
        __sync_fetch_and_add(c, 1);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
