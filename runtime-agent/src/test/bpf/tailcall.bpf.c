// SPDX-License-Identifier: GPL-2.0
// An entry program that tail-calls through a program array, the shape the eBPF backend uses to reach a
// handler: swapping a slot swaps the handler for everything that runs the entry program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} handlers SEC(".maps");

SEC("xdp")
int tc_entry(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &handlers, 0);
    return XDP_PASS;   /* empty slot: pass */
}

SEC("xdp")
int tc_drop(struct xdp_md *ctx)
{
    return XDP_DROP;
}

SEC("xdp")
int tc_tx(struct xdp_md *ctx)
{
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
