// SPDX-License-Identifier: GPL-2.0
// Maps of every kind the map tests exercise, and one program that uses them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct kv_key { __u8 bytes[16]; };
struct kv_value { __u8 bytes[64]; };

/* hash: 16-byte keys, 64-byte values, room for 4 (the "full map" test fills it) */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4);
    __type(key, struct kv_key);
    __type(value, struct kv_value);
} kv SEC(".maps");

struct slot { __u64 a; __u32 b; __u8 c[12]; };

/* array: 8 slots of 24 bytes */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct slot);
} slots SEC(".maps");

/* a bigger hash for batches */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1000);
    __type(key, __u32);
    __type(value, __u64);
} many SEC(".maps");

struct lpm_v4 { __u32 prefixlen; __u8 addr[4]; };

/* LPM trie: keys are {prefix length, address} */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_v4);
    __type(value, __u32);
} prefixes SEC(".maps");

/* devmap hash: no batch operations, so multi-entry calls fall back to single ones */
struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u32);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} percpu SEC(".maps");

SEC("xdp")
int maps_touch(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct slot *s = bpf_map_lookup_elem(&slots, &zero);
    if (s)
        __sync_fetch_and_add(&s->a, 1);
    __u32 *p = bpf_map_lookup_elem(&percpu, &zero);
    if (p)
        *p += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
