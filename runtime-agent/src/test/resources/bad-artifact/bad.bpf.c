// SPDX-License-Identifier: GPL-2.0
// Deliberately invalid (a stand-in for a generated object the verifier refuses): reads the packet unchecked.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int get_xdp(struct xdp_md *ctx)
{
    /* bad.xps:3 */
    void *data = (void *)(long)ctx->data;
    /* bad.xps:4 */
    __u32 first = *(__u32 *)data;
    return first == 0x12345678 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
