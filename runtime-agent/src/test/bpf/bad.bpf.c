// SPDX-License-Identifier: GPL-2.0
// Deliberately invalid: reads the packet without checking its bounds. The verifier must reject it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_unchecked_read(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    __u32 first = *(__u32 *)data;   /* no "data + 4 > data_end" check */
    return first == 0x12345678 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
