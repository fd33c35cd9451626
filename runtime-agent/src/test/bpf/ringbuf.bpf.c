// SPDX-License-Identifier: GPL-2.0
// Submits one event per packet to a ring buffer: a sequence number, the length and the first 16 bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
    __u32 seq;
    __u32 len;
    __u8 head[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

__u32 next_seq = 0;   /* lives in the object's .bss map */

SEC("xdp")
int xdp_events(struct xdp_md *ctx)
{
    __u32 len = ctx->data_end - ctx->data;
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return XDP_PASS;
    e->seq = __sync_fetch_and_add(&next_seq, 1);
    e->len = len;
    __builtin_memset(e->head, 0, sizeof(e->head));
    if (len >= sizeof(e->head))
        bpf_xdp_load_bytes(ctx, 0, e->head, sizeof(e->head));
    bpf_ringbuf_submit(e, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
