// SPDX-License-Identifier: GPL-2.0
// A hand-written TCP fast path in the shape the eBPF backend generates (see the design brief, section 4):
// a sock_ops program adds the server's passively established sockets on the configured port to a SOCKHASH
// keyed by the 4-tuple; a stream verdict program (attached without a stream parser) answers "PING\n" with
// "PONG\n" from the kernel (rewrite the skb, redirect it to the egress of the same socket) and passes
// everything else to the server.
//
// config[1] is a drain switch: when set, the verdict passes everything. A socket keeps the verdict program
// it was added with (its psock holds it) even after the map's link is detached or updated, and it can stay
// attached after being deleted from the map while the server is blocked in read(); a verdict that then
// redirects through the map would drop (the key is gone). Draining first makes unload safe for live
// connections.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define AF_INET 2

struct sock_key {
    __u32 local_ip4;
    __u32 remote_ip4;
    __u32 local_port;   /* host byte order, as both contexts give it */
    __u32 remote_port;  /* network byte order, as both contexts give it */
};

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __uint(max_entries, 1024);
    __type(key, struct sock_key);
    __type(value, __u32);
} socks SEC(".maps");

/* config[0] = the server port (host byte order), config[1] = drain (pass everything) */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} config SEC(".maps");

/* stats[0] sockets added, [1] PINGs answered, [2] skbs passed to the server */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __type(value, __u64);
} stats SEC(".maps");

static __always_inline void bump(__u32 slot)
{
    __u64 *c = bpf_map_lookup_elem(&stats, &slot);
    if (c)
        __sync_fetch_and_add(c, 1);
}

SEC("sockops")
int pp_sockops(struct bpf_sock_ops *skops)
{
    if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || skops->family != AF_INET)
        return 1;
    __u32 zero = 0;
    __u32 *port = bpf_map_lookup_elem(&config, &zero);
    if (!port || skops->local_port != *port)
        return 1;
    struct sock_key key = {
        .local_ip4 = skops->local_ip4,
        .remote_ip4 = skops->remote_ip4,
        .local_port = skops->local_port,
        .remote_port = skops->remote_port,
    };
    if (bpf_sock_hash_update(skops, &socks, &key, BPF_NOEXIST) == 0)
        bump(0);
    return 1;
}

/* Answers "PING\n" with {'P', vowel, 'N', 'G', '\n'}; passes everything else. */
static __always_inline int answer_ping(struct __sk_buff *skb, char vowel)
{
    __u32 one = 1;
    __u32 *drain = bpf_map_lookup_elem(&config, &one);
    if (!drain || *drain) {
        bump(2);
        return SK_PASS;
    }
    char req[5];
    if (skb->len != sizeof(req) || bpf_skb_load_bytes(skb, 0, req, sizeof(req)) != 0
        || req[0] != 'P' || req[1] != 'I' || req[2] != 'N' || req[3] != 'G' || req[4] != '\n') {
        bump(2);
        return SK_PASS;
    }
    char resp[5] = {'P', vowel, 'N', 'G', '\n'};
    if (bpf_skb_store_bytes(skb, 0, resp, sizeof(resp), 0) != 0) {
        bump(2);
        return SK_PASS;
    }
    struct sock_key key = {
        .local_ip4 = skb->local_ip4,
        .remote_ip4 = skb->remote_ip4,
        .local_port = skb->local_port,
        .remote_port = skb->remote_port,
    };
    bump(1);
    return bpf_sk_redirect_hash(skb, &socks, &key, 0);   /* flags 0: egress of that socket */
}

SEC("sk_skb/stream_verdict")
int pp_verdict(struct __sk_buff *skb)
{
    return answer_ping(skb, 'O');   /* PONG */
}

/* A second version of the handler, for the program-swap test. */
SEC("sk_skb/stream_verdict")
int pp_verdict_v2(struct __sk_buff *skb)
{
    return answer_ping(skb, 'A');   /* PANG */
}

char LICENSE[] SEC("license") = "GPL";
