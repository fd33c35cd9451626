// XDP_PASS for the switch-side veth ends of bench/scenarios/consensus-vr.sh. A data-plane member answers a
// PREPARE with XDP_TX; veth delivers an XDP_TX frame to its peer's NAPI, which exists only while the peer has
// an XDP program (as in runtime-agent's VrNet test network). Both modes get it, so the topology is the same.
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx) {
    return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
