/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xps_consensus.h: what the consensus data plane programs (<base>.consensus.bpf.c) share: the
 * replication message format of docs/consensus.md (the bytes of dev.xps.consensus.wire.Wire), the
 * ring-buffer event, and small helpers (IPv4 and UDP checksums, atomic maximum).
 * Emitted by xpsc next to each <base>.consensus.bpf.c; do not edit (it is rewritten on every compile).
 *
 * The per-block code (configuration, state and log layouts sized by the block, the three programs)
 * is in the generated file; docs/ebpf-target.md, "Consensus blocks", describes the maps.
 *
 * Concurrency: the programs run on every CPU at once. Numbers that only grow (last_op, commit,
 * contiguous, acked[r]) move with compare-and-swap, so two CPUs never both announce the same commit;
 * a log slot's op is written last (atomic exchange), so a slot whose op matches is complete.
 */
#ifndef XPS_CONSENSUS_H
#define XPS_CONSENSUS_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* ------------------------------------------------------------------ the wire (docs/consensus.md) */

#define XC_MAGIC 0x5856		/* "XV" */
#define XC_VERSION 1
#define XC_PREPARE 1
#define XC_PREPARE_OK 2
#define XC_COMMIT 3
#define XC_HEADER_BYTES 12
#define XC_PREPARE_FIXED 24	/* op, commit, client ip, client port, length */
#define XC_ETH_IP_UDP 42	/* Ethernet + IPv4 without options + UDP */
#define XC_MAX_ADVANCE 64	/* contiguous / commit stamps advanced per message at most */
#define XC_CAS_TRIES 8		/* compare-and-swap retries before giving up (another CPU moved it further) */
#define XC_REPLICA_WAKE 64	/* a replica's host is told its commit every 64 entries (and reads it every interval) */

struct xc_hdr {
	__be16 magic;
	__u8 version;
	__u8 type;
	__be32 view;
	__u8 sender;
	__u8 reserved[3];
} __attribute__((packed));

struct xc_prepare {
	struct xc_hdr h;
	__be64 op;
	__be64 commit;
	__be32 client_ip;
	__be16 client_port;
	__be16 len;
} __attribute__((packed));

/* PREPAREOK and COMMIT: the header and one u64. */
struct xc_op_msg {
	struct xc_hdr h;
	__be64 op;
} __attribute__((packed));

/* Ethernet + IPv4 (no options) + UDP, as the programs write them. */
struct xc_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
} __attribute__((packed));

/* A member as the agent configures it. */
struct xc_member {
	__be32 ip;
	__u8 mac[ETH_ALEN];
	__u16 pad;
};

/* ------------------------------------------------------------------ ring-buffer events */

enum xc_event_kind {
	XC_EV_COMMIT = 1,	/* value: the commit number is now this (deliver up to it, in op order) */
	XC_EV_FAILED = 2,	/* value: the oldest unanswered delivered op; ordering has stopped */
	XC_EV_BACKLOG = 3,	/* value: last_op - commit passed the backlog threshold: retransmit now */
};

struct xc_event {
	__u32 kind;
	__u32 view;
	__u64 value;
	__u64 time_ns;
};

/* ------------------------------------------------------------------ helpers */

/*
 * An index read from a map or a packet, made opaque to the compiler so that the bounds check that
 * follows is the one the verifier sees on the register used for the access (clang would otherwise
 * recompute the address from an earlier, unchecked copy).
 */
static __always_inline __u32 xc_opaque(__u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

static __always_inline __u16 xc_ip_checksum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	for (int i = 0; i < (int)(sizeof(struct iphdr) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Ones' complement sums (RFC 1071) for the UDP checksum, over native 32-bit loads of the bytes: the sum of the
 * 16-bit words in network order, byte-swapped or not alike, so the folded result is stored as it was loaded.
 */
static __always_inline __u32 xc_csum_add(__u32 sum, __u32 v)
{
	sum += v;
	return sum + (sum < v);	/* end-around carry */
}

static __always_inline __u16 xc_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The sum of n 32-bit words (n a constant: unrolled). */
static __always_inline __u32 xc_csum_words(const __u32 *w, int n)
{
	__u32 sum = 0;
#pragma unroll
	for (int i = 0; i < n; i++)
		sum = xc_csum_add(sum, w[i]);
	return sum;
}

/*
 * Fills Ethernet + IPv4 + UDP for a datagram of payload_len bytes from port to port whose payload's ones' complement
 * sum (xc_csum_words and friends) is payload_sum: the UDP checksum is that sum plus the pseudo header and the UDP
 * header's words, so a caller that sends one payload to several members sums the payload once.
 */
static __always_inline void xc_fill_frame(struct xc_frame *f, const __u8 *dst_mac, const __u8 *src_mac,
					  __be32 src_ip, __be32 dst_ip, __u16 port, __u32 payload_len, __u32 payload_sum)
{
	__builtin_memcpy(f->eth.h_dest, dst_mac, ETH_ALEN);
	__builtin_memcpy(f->eth.h_source, src_mac, ETH_ALEN);
	f->eth.h_proto = bpf_htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tos = 0;
	f->ip.tot_len = bpf_htons((__u16)(sizeof(struct iphdr) + sizeof(struct udphdr) + payload_len));
	f->ip.id = 0;
	f->ip.frag_off = bpf_htons(0x4000);	/* DF */
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.check = 0;
	f->ip.saddr = src_ip;
	f->ip.daddr = dst_ip;
	f->ip.check = xc_ip_checksum(&f->ip);
	__be16 udp_len = bpf_htons((__u16)(sizeof(struct udphdr) + payload_len));
	__be16 p = bpf_htons(port);
	f->udp.source = p;
	f->udp.dest = p;
	f->udp.len = udp_len;
	/* pseudo header: addresses, zero + protocol, UDP length; UDP header: ports, length (checksum 0) */
	__u32 sum = xc_csum_add(payload_sum, (__u32)bpf_htons(IPPROTO_UDP) + 2 * (__u32)udp_len + 2 * (__u32)p);
	sum = xc_csum_add(sum, src_ip);
	sum = xc_csum_add(sum, dst_ip);
	__u16 check = (__u16)~xc_csum_fold(sum);
	f->udp.check = check ? check : 0xffff;	/* 0 would mean "no checksum" */
}

static __always_inline void xc_fill_hdr(struct xc_hdr *h, __u8 type, __u32 view, __u32 sender)
{
	h->magic = bpf_htons(XC_MAGIC);
	h->version = XC_VERSION;
	h->type = type;
	h->view = bpf_htonl(view);
	h->sender = (__u8)sender;
	h->reserved[0] = 0;
	h->reserved[1] = 0;
	h->reserved[2] = 0;
}

/* *p = max(*p, v), atomically. Returns the value *p had before, when this call raised it; 0 otherwise. */
static __always_inline __u64 xc_raise(__u64 *p, __u64 v, int *raised)
{
	*raised = 0;
	for (int i = 0; i < XC_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)p;
		if (v <= old)
			return old;
		if (__sync_val_compare_and_swap(p, old, v) == old) {
			*raised = 1;
			return old;
		}
	}
	return 0;
}

#endif /* XPS_CONSENSUS_H */
