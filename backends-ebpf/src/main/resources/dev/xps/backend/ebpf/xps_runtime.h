/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xps_runtime.h: what every program xpsc generates for the ebpf target shares.
 * Emitted by xpsc next to each <name>.bpf.c; do not edit (it is rewritten on every compile).
 *
 * The semantics implemented here are those of docs/language.md (messages, segments, decode
 * failures, verdicts); handler-runtime's Message and SegmentProcessor are the reference.
 *
 * The generated file defines, before including this header:
 *   XPS_WINDOW    power of two >= the most bytes any handler reads from one message
 *   XPS_RESPONSE  power of two: the response buffer (all tx responses of one segment)
 *   XPS_ENTRIES   the number of entry points (rows of the counters map)
 *   XPS_MAX_BYTES the largest bytes value capacity of the module (a multiple of 8)
 *
 * Memory: a program has 512 bytes of stack, so a message is read into a per-CPU window
 * (xps_window, twice XPS_WINDOW bytes) and responses are built in a per-CPU buffer (xps_scratch).
 * Every fixed-size read from the window masks its offset with XPS_WINDOW - 1, so the verifier can
 * see it is in bounds; the mask never changes an offset the decode rules allow. Bytes values of
 * any length are copied with the dynptr helpers, which check bounds at run time: a loop whose trip
 * count depends on the data would make the verifier walk every count separately.
 *
 * The per-CPU maps have XPS_NEST slots, one per nesting level: an sk_skb program running in
 * process context (socket backlog) can be interrupted by a softirq running another program of the
 * same object on the same CPU.
 *
 * Verdict codes travel from a handler program (reached by tail call) to its entry program through
 * xps_scratch: a tail call made from a BPF function returns to that function's caller.
 */
#ifndef XPS_RUNTIME_H
#define XPS_RUNTIME_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#if !defined(XPS_WINDOW) || !defined(XPS_RESPONSE) || !defined(XPS_ENTRIES) || !defined(XPS_MAX_BYTES)
#error "define XPS_WINDOW, XPS_RESPONSE, XPS_ENTRIES and XPS_MAX_BYTES before including xps_runtime.h"
#endif

#define XPS_WMASK (XPS_WINDOW - 1)
#define XPS_RMASK (XPS_RESPONSE - 1)
#define XPS_NEST 2
#define XPS_MAX_MESSAGES 32
#define XPS_NO_FRAME 0xffffffffu
#define XPS_NOT_FOUND 0xffffffffu
#define XPS_MAX_DELIMITER 16

/* A message's verdict, as handler programs return it and the counters count it. */
enum xps_verdict {
	XPS_TX = 1,
	XPS_DROP = 2,
	XPS_PASS = 3,
	XPS_RESET = 4,
	XPS_INCOMPLETE = 5,	/* the message has not all arrived: the segment passes */
	XPS_NO_HANDLER = 6,	/* empty handler slot or no scratch memory: the segment passes */
};

/* How a decode step fails (0: it did not). */
enum xps_decode_error {
	XPS_E_INCOMPLETE = 1,
	XPS_E_MALFORMED = 2,
};

/* ------------------------------------------------------------------ shared maps */

/* One segment being handled: where it is, the message being run, and the responses so far. */
struct xps_scratch {
	__u32 seg_off;		/* where the segment starts in the packet (0 for sk_skb) */
	__u32 seg_len;		/* its length */
	__u32 msg_start;	/* the current message's first byte, from the segment start */
	__u32 msg_len;		/* set by the handler: bytes the message consumes */
	__u32 verdict;		/* set by the handler: enum xps_verdict */
	__u32 malformed;	/* set by the handler: the decode block failed as malformed */
	__u32 resp_len;		/* response bytes in resp */
	__u32 overflow;		/* a response did not fit in resp: the segment passes */
	__u8 resp[XPS_RESPONSE + 8];
};

/* The first bytes of the current message (as many as its handler can read). */
struct xps_window {
	__u8 b[2 * XPS_WINDOW];
};

/* Per entry point, like handler-runtime's EntryCounters, plus what the kernel target adds. */
struct xps_counters {
	__u64 tx;		/* messages by verdict */
	__u64 drop;
	__u64 pass;
	__u64 reset;
	__u64 malformed;	/* messages whose decode block failed as malformed */
	__u64 incomplete;	/* segments that ended in an incomplete message */
	__u64 fallback;		/* segments passed because of a target limit (response buffer, no room
				 * to build a reply, empty handler slot, nesting) */
	__u64 unsynced;		/* TCP segments passed because the connection was out of step */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xps_nest SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPS_NEST);
	__type(key, __u32);
	__type(value, struct xps_scratch);
} xps_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPS_NEST);
	__type(key, __u32);
	__type(value, struct xps_window);
} xps_window SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPS_ENTRIES);
	__type(key, __u32);
	__type(value, struct xps_counters);
} xps_counters SEC(".maps");

/* Zeroes to pad bytes values with (.bss: never written). */
static __u8 xps_zeros[XPS_MAX_BYTES];

/* ------------------------------------------------------------------ nesting and scratch */

/* Claims this CPU's next scratch slot; NULL when all are in use. Pair with xps_leave(). */
static __always_inline struct xps_scratch *xps_enter(void)
{
	__u32 zero = 0;
	__u32 *nest = bpf_map_lookup_elem(&xps_nest, &zero);
	__u32 level;

	if (!nest)
		return NULL;
	level = *nest;
	if (level >= XPS_NEST)
		return NULL;
	*nest = level + 1;
	return bpf_map_lookup_elem(&xps_scratch, &level);
}

static __always_inline void xps_leave(void)
{
	__u32 zero = 0;
	__u32 *nest = bpf_map_lookup_elem(&xps_nest, &zero);

	if (nest && *nest > 0)
		*nest -= 1;
}

/* The slot of the running entry program, for the handler programs it tail-calls. */
static __always_inline __u32 xps_level(void)
{
	__u32 zero = 0;
	__u32 *nest = bpf_map_lookup_elem(&xps_nest, &zero);

	return nest && *nest > 0 ? *nest - 1 : XPS_NEST;
}

static __always_inline struct xps_scratch *xps_scratch_at(__u32 level)
{
	return bpf_map_lookup_elem(&xps_scratch, &level);
}

static __always_inline struct xps_window *xps_window_at(__u32 level)
{
	return bpf_map_lookup_elem(&xps_window, &level);
}

static __always_inline struct xps_counters *xps_counters_of(__u32 entry)
{
	return bpf_map_lookup_elem(&xps_counters, &entry);
}

static __always_inline void xps_count_message(__u32 entry, __u32 verdict, __u32 malformed)
{
	struct xps_counters *c = xps_counters_of(entry);

	if (!c)
		return;
	if (verdict == XPS_TX)
		c->tx++;
	else if (verdict == XPS_DROP)
		c->drop++;
	else if (verdict == XPS_PASS)
		c->pass++;
	else if (verdict == XPS_RESET)
		c->reset++;
	if (malformed)
		c->malformed++;
}

static __always_inline void xps_count_incomplete(__u32 entry)
{
	struct xps_counters *c = xps_counters_of(entry);

	if (c)
		c->incomplete++;
}

static __always_inline void xps_count_fallback(__u32 entry)
{
	struct xps_counters *c = xps_counters_of(entry);

	if (c)
		c->fallback++;
}

static __always_inline void xps_count_unsynced(__u32 entry)
{
	struct xps_counters *c = xps_counters_of(entry);

	if (c)
		c->unsynced++;
}

/* ------------------------------------------------------------------ one message */

/* The decode state of one message (handler-runtime's Message). Offsets are from its first byte. */
struct xps_msg {
	__u32 size;		/* bytes from the message start to the end of the segment */
	__u32 cursor;		/* where the next sequential step reads */
	__u32 furthest;		/* the end of the furthest byte any step took */
	__u32 frame;		/* the length a frame step fixed, or XPS_NO_FRAME */
	__u32 length;		/* bytes the message consumes: the rest of the segment until decoded */
};

static __always_inline void xps_msg_init(struct xps_msg *m, const struct xps_scratch *s)
{
	m->size = s->seg_len - s->msg_start;
	m->cursor = 0;
	m->furthest = 0;
	m->frame = XPS_NO_FRAME;
	m->length = m->size;
}

/* How many bytes of the message to copy into the window: all a handler that reads at most
 * 'reads' bytes can look at. */
static __always_inline __u32 xps_fill_len(const struct xps_msg *m, __u32 reads)
{
	return m->size < reads ? m->size : reads;
}

static __always_inline __u8 xps_byte(const struct xps_window *w, __u32 off)
{
	return w->b[off & XPS_WMASK];
}

static __always_inline __u8 xps_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static __always_inline void xps_advance(struct xps_msg *m, __u32 n)
{
	m->cursor += n;
	if (m->cursor > m->furthest)
		m->furthest = m->cursor;
}

static __always_inline int xps_need(const struct xps_msg *m, __u64 n)
{
	return n > (__u64)(m->size - m->cursor) ? XPS_E_INCOMPLETE : 0;
}

/* A read of n bytes at a fixed offset: it does not move the cursor but extends the message. */
static __always_inline int xps_reach(struct xps_msg *m, __u32 off, __u32 n)
{
	if ((__u64)off + n > m->size)
		return XPS_E_INCOMPLETE;
	if (off + n > m->furthest)
		m->furthest = off + n;
	return 0;
}

static __always_inline __u64 xps_read_uint(const struct xps_window *w, __u32 off, __u32 width, int big_endian)
{
	__u64 v = 0;

	if (big_endian) {
		for (__u32 i = 0; i < 8; i++)
			if (i < width)
				v = (v << 8) | xps_byte(w, off + i);
	} else {
		for (__u32 i = 8; i > 0; i--)
			if (i <= width)
				v = (v << 8) | xps_byte(w, off + i - 1);
	}
	return v;
}

/* ------------------------------------------------------------------ decode steps
 * Each returns 0, XPS_E_INCOMPLETE or XPS_E_MALFORMED, like handler-runtime's Message. */

/* expect / expect_ci: the literal at the cursor. A mismatch in the bytes received is malformed;
 * a matching prefix that is all there is, incomplete. len is a constant. */
static __always_inline int xps_expect(const struct xps_window *w, struct xps_msg *m,
				      const char *lit, __u32 len, int fold_case)
{
	__u32 avail = m->size - m->cursor;

	for (__u32 i = 0; i < len; i++) {
		__u8 a, b;

		if (i >= avail)
			return XPS_E_INCOMPLETE;
		a = xps_byte(w, m->cursor + i);
		b = lit[i];
		if (a != b && !(fold_case && xps_lower(a) == xps_lower(b)))
			return XPS_E_MALFORMED;
	}
	xps_advance(m, len);
	return 0;
}

/* skip n / skip(expr) max n. */
static __always_inline int xps_skip(struct xps_msg *m, __u64 n, __u32 max)
{
	if (n > max)
		return XPS_E_MALFORMED;
	if (xps_need(m, n))
		return XPS_E_INCOMPLETE;
	xps_advance(m, n);
	return 0;
}

/* u8 / u16be / ... at the cursor. */
static __always_inline int xps_uint(const struct xps_window *w, struct xps_msg *m, __u32 width,
				    int big_endian, __u64 *out)
{
	if (xps_need(m, width))
		return XPS_E_INCOMPLETE;
	*out = xps_read_uint(w, m->cursor, width, big_endian);
	xps_advance(m, width);
	return 0;
}

/* u8 at N / u16be at N / ...: a fixed offset from the message start. */
static __always_inline int xps_uint_at(const struct xps_window *w, struct xps_msg *m, __u32 off,
				       __u32 width, int big_endian, __u64 *out)
{
	if (xps_reach(m, off, width))
		return XPS_E_INCOMPLETE;
	*out = xps_read_uint(w, off, width, big_endian);
	return 0;
}

/* decimal max N digits: 1..N ASCII digits; the byte after them is looked at, not consumed. */
static __always_inline int xps_decimal(const struct xps_window *w, struct xps_msg *m,
				       __u32 max_digits, __u64 *out)
{
	__u32 avail = m->size - m->cursor;
	__u64 v = 0;

	for (__u32 i = 0; i <= max_digits; i++) {
		__u8 c;

		if (i >= avail)
			return XPS_E_INCOMPLETE;
		c = xps_byte(w, m->cursor + i);
		if (c < '0' || c > '9') {
			if (i == 0)
				return XPS_E_MALFORMED;
			xps_advance(m, i);
			*out = v;
			return 0;
		}
		if (i == max_digits)
			return XPS_E_MALFORMED;
		v = v * 10 + (c - '0');
	}
	return XPS_E_MALFORMED;
}

/* Zeroes the first cap bytes of dst (no loop: clang would make a large one a memset). */
static __always_inline void xps_zero(__u8 *dst, __u32 cap)
{
	struct bpf_dynptr to;

	if (cap > sizeof(xps_zeros))
		cap = sizeof(xps_zeros);
	if (!bpf_dynptr_from_mem(dst, cap, 0, &to))
		bpf_dynptr_write(&to, 0, xps_zeros, cap, 0);
}

/*
 * Copies len bytes at src_off of src (a buffer of src_cap bytes) into dst (dst_cap bytes),
 * zero-padded: a bytes value is zero-padded wherever it is stored, so equal keys are equal
 * structs. No loops: a loop whose length depends on the data would make the verifier walk every
 * length separately (and every path after it), so the copy is a bpf_dynptr_read and the padding
 * a bpf_dynptr_write from xps_zeros.
 */
static __always_inline void xps_copy(__u8 *dst, __u32 dst_cap, const __u8 *src, __u32 src_cap,
				     __u32 src_off, __u32 len)
{
	struct bpf_dynptr from, to;

	if (dst_cap > sizeof(xps_zeros))
		dst_cap = sizeof(xps_zeros);
	if (len > dst_cap)
		len = dst_cap;
	if (bpf_dynptr_from_mem(dst, dst_cap, 0, &to))
		return;
	bpf_dynptr_write(&to, len, xps_zeros, dst_cap - len, 0);
	if (bpf_dynptr_from_mem((void *)src, src_cap, 0, &from))
		return;
	bpf_dynptr_read(dst, len, &from, src_off, 0);
}

/* n bytes of the message, from offset off, into a bytes value of capacity cap. */
static __always_inline void xps_copy_window(const struct xps_window *w, __u32 off, __u32 n,
					    __u8 *dst, __u32 cap)
{
	/* Small values (the usual keys): a word per step, masked, instead of two dynptr calls and a
	 * zero fill; no branch depends on the data. dst is map memory (handler locals). */
	if (cap <= 256 && cap % 8 == 0) {
		if (n > cap)
			n = cap;
		for (__u32 k = 0; k < cap; k += 8) {
			__u64 v = *(const __u64 *)&w->b[(off + k) & XPS_WMASK];
			__u32 r = n > k ? n - k : 0;
			__u64 keep = r >= 8 ? ~0ULL : (1ULL << (8 * r)) - 1;

			*(__u64 *)(dst + k) = v & keep;
		}
		return;
	}
	xps_copy(dst, cap, w->b, sizeof(w->b), off, n);
}

/* bytes(expr) max N / bytes[N]: into a bytes value of capacity cap. */
static __always_inline int xps_bytes(const struct xps_window *w, struct xps_msg *m, __u64 n, __u32 max,
				     __u32 *len, __u8 *data, __u32 cap)
{
	if (n > max)
		return XPS_E_MALFORMED;
	if (xps_need(m, n))
		return XPS_E_INCOMPLETE;
	xps_copy_window(w, m->cursor, n, data, cap);
	*len = n;
	xps_advance(m, n);
	return 0;
}

/* bytes[N] at OFF. */
static __always_inline int xps_bytes_at(const struct xps_window *w, struct xps_msg *m, __u32 off, __u32 n,
					__u32 *len, __u8 *data, __u32 cap)
{
	if (xps_reach(m, off, n))
		return XPS_E_INCOMPLETE;
	xps_copy_window(w, off, n, data, cap);
	*len = n;
	return 0;
}

/* The delimiter search of until / skip_until: one bpf_loop step per 8-byte block of the window.
 * A word-at-a-time test finds the block's bytes equal to the delimiter's first byte (it may flag
 * a byte after a true match, never miss one); each flagged position in range is then compared in
 * full, lowest first. */
struct xps_find {
	const struct xps_window *w;
	__u32 from;
	__u32 last;
	__u32 dlen;
	__u32 found;
	__u8 delim[XPS_MAX_DELIMITER];
};

static long xps_find_step(__u32 i, void *ctx)
{
	struct xps_find *f = ctx;
	__u32 base = (f->from & ~7u) + 8 * i;
	__u64 x, flagged;

	if (base > f->last)
		return 1;
	x = *(const __u64 *)&f->w->b[base & XPS_WMASK & ~7u] ^ (0x0101010101010101ULL * f->delim[0]);
	flagged = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
	if (!flagged)
		return 0;
	for (__u32 k = 0; k < 8; k++) {
		__u32 at = base + k;
		__u32 j;

		if (!(flagged & (0x80ULL << (8 * k))) || at < f->from || at > f->last)
			continue;
		for (j = 1; j < XPS_MAX_DELIMITER; j++) {
			if (j >= f->dlen || xps_byte(f->w, at + j) != f->delim[j])
				break;
		}
		if (j >= f->dlen || j == XPS_MAX_DELIMITER) {
			f->found = at;
			return 1;
		}
	}
	return 0;
}

/* Where the first delimiter at most max bytes after the cursor starts (handler-runtime's
 * Message.find): malformed when every allowed position was received and none matched. */
static __always_inline int xps_find(const struct xps_window *w, struct xps_msg *m, const char *delim,
				    __u32 dlen, __u32 max, __u32 *at)
{
	struct xps_find f = { .w = w, .from = m->cursor, .dlen = dlen, .found = XPS_NOT_FOUND };
	__u64 last = (__u64)m->cursor + max;

	for (__u32 j = 0; j < XPS_MAX_DELIMITER; j++)
		if (j < dlen)
			f.delim[j] = delim[j];
	if (m->size >= dlen) {
		if (last > m->size - dlen)
			last = m->size - dlen;
		if (last >= m->cursor) {
			f.last = (__u32)last;
			bpf_loop((__u32)((last - (m->cursor & ~7u)) / 8 + 1), xps_find_step, &f, 0);
		}
	}
	if (f.found != XPS_NOT_FOUND) {
		*at = f.found;
		return 0;
	}
	return (__u64)(m->size - m->cursor) >= (__u64)max + dlen ? XPS_E_MALFORMED : XPS_E_INCOMPLETE;
}

/* skip_until "delim" max N. */
static __always_inline int xps_skip_until(const struct xps_window *w, struct xps_msg *m, const char *delim,
					  __u32 dlen, __u32 max)
{
	__u32 at = 0;
	int rc = xps_find(w, m, delim, dlen, max, &at);

	if (rc)
		return rc;
	xps_advance(m, at - m->cursor + dlen);
	return 0;
}

/* x = until "delim" max N: the bytes before the delimiter, which is consumed too. */
static __always_inline int xps_until(const struct xps_window *w, struct xps_msg *m, const char *delim,
				     __u32 dlen, __u32 max, __u32 *len, __u8 *data, __u32 cap)
{
	__u32 at = 0;
	int rc = xps_find(w, m, delim, dlen, max, &at);

	if (rc)
		return rc;
	xps_copy_window(w, m->cursor, at - m->cursor, data, cap);
	*len = at - m->cursor;
	xps_advance(m, at - m->cursor + dlen);
	return 0;
}

/* frame expr max N: the message is exactly len bytes. */
static __always_inline int xps_frame(struct xps_msg *m, __u64 len, __u32 max)
{
	if (len > max || len < m->furthest)
		return XPS_E_MALFORMED;
	if (len > m->size)
		return XPS_E_INCOMPLETE;
	m->frame = len;
	return 0;
}

/* The end of a decode block: the message is as long as what was read (or what frame said);
 * an empty message would not advance the segment walk, so it is malformed. */
static __always_inline int xps_end_decode(struct xps_msg *m)
{
	__u32 decoded = m->frame != XPS_NO_FRAME ? m->frame
		      : (m->cursor > m->furthest ? m->cursor : m->furthest);

	if (decoded == 0)
		return XPS_E_MALFORMED;
	m->length = decoded;
	return 0;
}

/* ------------------------------------------------------------------ handler results */

static __always_inline int xps_return(struct xps_scratch *s, const struct xps_msg *m, __u32 verdict)
{
	s->verdict = verdict;
	s->msg_len = m->length;
	s->malformed = 0;
	return verdict;
}

/* A failed decode block: incomplete ends the walk; malformed takes the else verdict, and the
 * message extends to the end of the segment. */
static __always_inline int xps_decode_failed(struct xps_scratch *s, const struct xps_msg *m, int rc,
					     __u32 on_malformed)
{
	if (rc == XPS_E_INCOMPLETE) {
		s->verdict = XPS_INCOMPLETE;
		s->msg_len = 0;
		s->malformed = 0;
		return XPS_INCOMPLETE;
	}
	s->verdict = on_malformed;
	s->msg_len = m->size;
	s->malformed = 1;
	return on_malformed;
}

/* ------------------------------------------------------------------ values */

/* u64 shifts are defined for every count in the language (a count >= 64 gives 0), not in C. */
static __always_inline __u64 xps_shl(__u64 a, __u64 n)
{
	return n >= 64 ? 0 : a << n;
}

static __always_inline __u64 xps_shr(__u64 a, __u64 n)
{
	return n >= 64 ? 0 : a >> n;
}

/*
 * Bytes equality: same length and same content. Both values are copied, zero-padded, into ta and
 * tb (cap bytes each: the smaller capacity, a multiple of 8) and compared word by word over all
 * of cap, so no step depends on the length (see xps_copy).
 */
static __always_inline int xps_bytes_eq(const __u8 *a, __u32 alen, __u32 acap, const __u8 *b, __u32 blen,
					__u32 bcap, __u8 *ta, __u8 *tb, __u32 cap)
{
	__u64 diff = 0;

	if (alen != blen)
		return 0;
	xps_copy(ta, cap, a, acap, 0, alen);
	xps_copy(tb, cap, b, bcap, 0, blen);
	for (__u32 o = 0; o < cap; o += 8)
		diff |= *(const __u64 *)(ta + o) ^ *(const __u64 *)(tb + o);
	return diff == 0;
}

/* Copies a bytes value (len <= cap) into dst of capacity dst_cap >= len, zero-padded. */
static __always_inline void xps_copy_bytes(__u8 *dst, __u32 dst_cap, const __u8 *src, __u32 len, __u32 cap)
{
	xps_copy(dst, dst_cap, src, cap, 0, len);
}

/* Counts a hit of key in a 'with stats' map's hit counter map. */
static __always_inline void xps_count_hit(void *hits, const void *key)
{
	__u64 one = 1;
	__u64 *n = bpf_map_lookup_elem(hits, key);

	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	if (bpf_map_update_elem(hits, key, &one, BPF_NOEXIST)) {
		n = bpf_map_lookup_elem(hits, key);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
}

/* ------------------------------------------------------------------ responses */

static __always_inline int xps_room(struct xps_scratch *s, __u32 n)
{
	if (s->overflow || s->resp_len > XPS_RESPONSE || n > XPS_RESPONSE - s->resp_len) {
		s->overflow = 1;
		return 0;
	}
	return 1;
}

/* len bytes of src (len <= XPS_RESPONSE), with one bpf_dynptr_write; xps_room already said yes. */
static __always_inline void xps_out_mem(struct xps_scratch *s, const __u8 *src, __u32 len)
{
	struct bpf_dynptr out;

	if (bpf_dynptr_from_mem(s->resp, XPS_RESPONSE, 0, &out)
	    || bpf_dynptr_write(&out, s->resp_len, (void *)src, len, 0)) {
		s->overflow = 1;
		return;
	}
	s->resp_len += len;
}

/* Bytes values up to this long are appended a word per step rather than by bpf_dynptr_write: two
 * helper calls cost more than eight word copies (docs/benchmarks.md, "kernel-ns"). */
#define XPS_OUT_WORDS 64

/* A bytes value (len <= cap): short ones a word at a time, longer ones with one bpf_dynptr_write.
 * The word copy may write up to 7 bytes past the value's end: they are beyond resp_len (so not part
 * of the response, and overwritten by what comes next) and inside resp's 8 bytes of slack. */
static __always_inline void xps_out_bytes(struct xps_scratch *s, const __u8 *src, __u32 len, __u32 cap)
{
	if (len > cap)
		len = cap;
	if (!xps_room(s, len))
		return;
	if (cap % 8 == 0 && len <= XPS_OUT_WORDS) {
		__u32 pos = s->resp_len;

		/* src holds cap bytes, a multiple of 8, so every word read below is inside it; pos + len
		 * <= XPS_RESPONSE (xps_room), so pos + k never wraps under the mask */
		for (__u32 k = 0; k < XPS_OUT_WORDS && k < cap; k += 8)
			if (k < len)
				*(__u64 *)&s->resp[(pos + k) & XPS_RMASK] = *(const __u64 *)(src + k);
		s->resp_len = pos + len;
		return;
	}
	xps_out_mem(s, src, len);
}

/* A literal: len is a constant. */
static __always_inline void xps_out_lit(struct xps_scratch *s, const char *lit, __u32 len)
{
	__u32 pos = s->resp_len;

	if (!xps_room(s, len))
		return;
	for (__u32 i = 0; i < len; i++)
		s->resp[(pos + i) & XPS_RMASK] = lit[i];
	s->resp_len = pos + len;
}

/* The 9 decimal digits of part (< 10^9) into buf[at - 8 .. at], by multiplying by the inverse of
 * 10 (exact for 32-bit values) rather than dividing; *digits becomes the count of significant
 * digits so far, counted from the right, if this part has any. */
static __always_inline void xps_decimal9(__u8 *buf, __u32 at, __u32 part, __u32 base, __u32 *digits)
{
	for (__u32 k = 0; k < 9; k++) {
		__u32 q = (__u32)(((__u64)part * 0xCCCCCCCDULL) >> 35);

		buf[at - k] = '0' + (part - q * 10);
		if (part)
			*digits = base + k + 1;
		part = q;
	}
}

/* decimal(x) of a value below 2^32 (every length is): the digit count by comparisons, then each
 * digit straight into the response, from the right, by multiplying by the inverse of 10 (exact for
 * every 32-bit value) — no division, no stack buffer, no helper call. */
static __always_inline void xps_out_decimal32(struct xps_scratch *s, __u32 x)
{
	__u32 n = 1 + (x >= 10) + (x >= 100) + (x >= 1000) + (x >= 10000) + (x >= 100000) + (x >= 1000000)
		  + (x >= 10000000) + (x >= 100000000) + (x >= 1000000000);
	__u32 pos = s->resp_len;

	if (!xps_room(s, n))
		return;
	for (__u32 k = 0; k < 10; k++) {
		__u32 q = (__u32)(((__u64)x * 0xCCCCCCCDULL) >> 35);

		if (k < n)
			s->resp[(pos + n - 1 - k) & XPS_RMASK] = '0' + (x - q * 10);
		x = q;
	}
	s->resp_len = pos + n;
}

/* decimal(v) of any u64: all 27 positions are written (from the end, into a stack buffer) from
 * three parts of at most 9 digits — two divisions instead of twenty; the significant digits are
 * then appended. */
static __always_inline void xps_out_decimal64(struct xps_scratch *s, __u64 v)
{
	__u8 buf[56] = {};	/* 27 positions, and room for the verifier to see any 27 bytes from 0..26 */
	__u32 digits = 1;
	__u64 high = v / 1000000000ULL;

	xps_decimal9(buf, 26, (__u32)(v - high * 1000000000ULL), 0, &digits);
	xps_decimal9(buf, 17, (__u32)(high % 1000000000ULL), 9, &digits);
	xps_decimal9(buf, 8, (__u32)(high / 1000000000ULL), 18, &digits);
	if (digits > 20)
		digits = 20;
	if (digits < 1)
		digits = 1;
	if (xps_room(s, digits))
		xps_out_mem(s, &buf[27 - digits], digits);
}

/* decimal(v): unsigned, no padding. */
static __always_inline void xps_out_decimal(struct xps_scratch *s, __u64 v)
{
	if (v <= 0xffffffffULL)
		xps_out_decimal32(s, (__u32)v);
	else
		xps_out_decimal64(s, v);
}

/* u8(v) / u16be(v) / u32le(v) / ...: the low width bytes in that order. */
static __always_inline void xps_out_uint(struct xps_scratch *s, __u64 v, __u32 width, int big_endian)
{
	__u32 pos = s->resp_len;

	if (!xps_room(s, width))
		return;
	for (__u32 i = 0; i < 8; i++) {
		if (i >= width)
			break;
		s->resp[(pos + i) & XPS_RMASK] = (__u8)(big_endian ? v >> (8 * (width - 1 - i)) : v >> (8 * i));
	}
	s->resp_len = pos + width;
}

/* ------------------------------------------------------------------ TCP */

/* A connection as the server sees it: the SOCKHASH key, the xps_conns key, and what a reset event
 * names. IPv4 and IPv6 alike: an IPv4 connection (an AF_INET socket, or an AF_INET6 socket whose ends
 * are v4-mapped) is family 2 with its addresses written v4-mapped (::ffff:a.b.c.d); a native IPv6
 * one is family 10. Addresses in network order; ports exactly as the kernel exposes them to
 * sock_ops, sk_skb and sk_msg (remote port in network order in the upper half of the word, local
 * port in host order), so all three programs build the same key. 44 bytes, no padding. */
struct xps_tuple {
	__u32 family;
	__u32 remote_port;
	__u32 local_port;
	__u32 remote_ip6[4];
	__u32 local_ip6[4];
};

/* Per connection (xps_conns), set by the verdict program and cleared by the egress program. */
#define XPS_CONN_DESYNC 1	/* a message was split across reads: the stream is mid-message */
#define XPS_CONN_PENDING 2	/* the service was handed requests it has not answered yet */
#define XPS_CONN_RESET 4	/* reset: everything else it sends is dropped */

struct xps_conn {
	__u32 flags;
	/* bytes of the kernel's answers redirected to the socket and not yet seen leaving it: a redirect is
	 * sent later, from a kworker, through the same sendmsg path (and sk_msg program) as the service */
	__u32 kernel_unsent;
};

/* A reset the agent must carry out (sk_skb cannot destroy a socket): 48 bytes. */
struct xps_reset_event {
	__u32 entry;
	struct xps_tuple tuple;
};

#define XPS_AF_INET 2
#define XPS_AF_INET6 10

/* Builds t from a context's fields (read once each by XPS_TUPLE_OF). */
static __always_inline void xps_tuple_make(struct xps_tuple *t, __u32 family, __u32 remote_port, __u32 local_port,
					   __u32 remote_ip4, __u32 local_ip4, const __u32 *r6, const __u32 *l6)
{
	int ipv6 = family == XPS_AF_INET6 && !(r6[0] == 0 && r6[1] == 0 && r6[2] == bpf_htonl(0xffff));

	t->family = ipv6 ? XPS_AF_INET6 : XPS_AF_INET;
	t->remote_port = remote_port;
	t->local_port = local_port;
	for (int i = 0; i < 3; i++) {
		t->remote_ip6[i] = ipv6 ? r6[i] : (i == 2 ? bpf_htonl(0xffff) : 0);
		t->local_ip6[i] = ipv6 ? l6[i] : (i == 2 ? bpf_htonl(0xffff) : 0);
	}
	t->remote_ip6[3] = ipv6 ? r6[3] : remote_ip4;
	t->local_ip6[3] = ipv6 ? l6[3] : local_ip4;
}

/* One 32-bit load of a context field, at its constant offset (volatile: the compiler may neither merge
 * two loads nor turn a choice between two fields into a load through a computed context pointer, which the
 * verifier refuses). */
#define XPS_CTX_U32(ctx, field) (*(volatile const __u32 *)&(ctx)->field)

/*
 * Fills t from a context that has family, remote_ip4/local_ip4, remote_ip6/local_ip6 and the ports
 * (struct bpf_sock_ops, struct __sk_buff, struct sk_msg_md). Every field is read, whatever the family:
 * an AF_INET socket's ip6 fields are not its addresses, so IPv4 is built from the ip4 fields.
 */
#define XPS_TUPLE_OF(ctx, t)									\
	do {											\
		__u32 r6_[4] = { XPS_CTX_U32(ctx, remote_ip6[0]), XPS_CTX_U32(ctx, remote_ip6[1]),	\
				 XPS_CTX_U32(ctx, remote_ip6[2]), XPS_CTX_U32(ctx, remote_ip6[3]) };	\
		__u32 l6_[4] = { XPS_CTX_U32(ctx, local_ip6[0]), XPS_CTX_U32(ctx, local_ip6[1]),	\
				 XPS_CTX_U32(ctx, local_ip6[2]), XPS_CTX_U32(ctx, local_ip6[3]) };	\
		xps_tuple_make(t, XPS_CTX_U32(ctx, family), XPS_CTX_U32(ctx, remote_port),		\
			       XPS_CTX_U32(ctx, local_port), XPS_CTX_U32(ctx, remote_ip4),		\
			       XPS_CTX_U32(ctx, local_ip4), r6_, l6_);					\
	} while (0)

static __always_inline void xps_tuple_of_skb(const struct __sk_buff *skb, struct xps_tuple *t)
{
	XPS_TUPLE_OF(skb, t);
}

static __always_inline void xps_tuple_of_ops(const struct bpf_sock_ops *ops, struct xps_tuple *t)
{
	XPS_TUPLE_OF(ops, t);
}

static __always_inline void xps_tuple_of_msg(const struct sk_msg_md *msg, struct xps_tuple *t)
{
	XPS_TUPLE_OF(msg, t);
}

/* Whether a sock_ops socket is IPv4, or IPv6 carrying an IPv4-mapped address: what a predicate on
 * addresses (`from` / `to`, IPv4 prefixes) needs, since ops->remote_ip4 of a native IPv6 socket is
 * not an address of its (the kernel keeps a placeholder there). */
static __always_inline int xps_ops_is_ipv4(const struct bpf_sock_ops *ops)
{
	if (ops->family == XPS_AF_INET)
		return 1;
	return ops->family == XPS_AF_INET6 && ops->remote_ip6[0] == 0 && ops->remote_ip6[1] == 0
	       && ops->remote_ip6[2] == bpf_htonl(0xffff);
}

/* Native IPv6 (not v4-mapped): what an entry with IPv6 address predicates sees. */
static __always_inline int xps_ops_is_ipv6(const struct bpf_sock_ops *ops)
{
	return ops->family == XPS_AF_INET6 && !xps_ops_is_ipv4(ops);
}

/* Whether the IPv6 address a0..a3 lies in the network n0..n3 / mask m0..m3 (all words in network order). */
static __always_inline int xps_ip6_in(__u32 a0, __u32 a1, __u32 a2, __u32 a3, __u32 n0, __u32 n1, __u32 n2,
				      __u32 n3, __u32 m0, __u32 m1, __u32 m2, __u32 m3)
{
	return (a0 & m0) == n0 && (a1 & m1) == n1 && (a2 & m2) == n2 && (a3 & m3) == n3;
}

/* Whether a sock_ops socket is TCP over IPv4 or IPv6 (any address): what the fast path serves. */
static __always_inline int xps_ops_is_inet(const struct bpf_sock_ops *ops)
{
	return ops->family == XPS_AF_INET || ops->family == XPS_AF_INET6;
}

/* The kernel answered n bytes on t (redirected; sent later). */
static __always_inline void xps_conn_kernel_tx(void *conns, const struct xps_tuple *t, __u32 n)
{
	struct xps_conn *c = bpf_map_lookup_elem(conns, t);
	struct xps_conn fresh = { .kernel_unsent = n };

	if (c)
		__sync_fetch_and_add(&c->kernel_unsent, n);
	else
		bpf_map_update_elem(conns, t, &fresh, BPF_ANY);
}

/*
 * A send of n bytes on c: whether it holds bytes of the service's. The kernel's own answers come first
 * out of kernel_unsent; a send larger than what the kernel still has outstanding has service bytes in it.
 * While the service owes answers the kernel answers nothing, so once the bytes sent since a pass exceed
 * the kernel's outstanding ones, the service has answered — in whatever order the two sends went out.
 */
static __always_inline int xps_conn_service_sent(struct xps_conn *c, __u32 n)
{
	for (int i = 0; i < 4; i++) {
		__u32 left = c->kernel_unsent;
		__u32 after = left < n ? 0 : left - n;

		if (__sync_val_compare_and_swap(&c->kernel_unsent, left, after) == left)
			return left < n;
	}
	return 0; /* contended: not the service's yet — staying out of step longer only makes answers pass */
}

/* Whether the agent has set the drain switch (an ARRAY of one u32). */
static __always_inline int xps_draining(void *drain)
{
	__u32 zero = 0;
	__u32 *on = bpf_map_lookup_elem(drain, &zero);

	return on && *on;
}

static __always_inline void xps_conn_set(void *conns, const struct xps_tuple *t, __u32 flags)
{
	struct xps_conn *c = bpf_map_lookup_elem(conns, t);
	struct xps_conn fresh = { .flags = flags };

	if (c)
		c->flags |= flags;
	else
		bpf_map_update_elem(conns, t, &fresh, BPF_ANY);
}

/* Rewrites the segment into the response (then redirected to the socket's egress).
 * Returns 0, or -1 when the skb could not be resized (it is then unchanged). */
static __always_inline int xps_skb_reply(struct __sk_buff *skb, struct xps_scratch *s)
{
	__u32 len = s->resp_len;

	if (len == 0)
		return 0;
	if (len > XPS_RESPONSE || bpf_skb_change_tail(skb, len, 0))
		return -1;
	return bpf_skb_store_bytes(skb, 0, s->resp, len, 0) ? -1 : 0;
}

/* Starts a segment walk over [off, off + len) of the packet. */
static __always_inline void xps_segment_begin(struct xps_scratch *s, __u32 off, __u32 len)
{
	s->seg_off = off;
	s->seg_len = len;
	s->msg_start = 0;
	s->msg_len = 0;
	s->verdict = XPS_NO_HANDLER;
	s->malformed = 0;
	s->resp_len = 0;
	s->overflow = 0;
}

/* Dispatch selectors, read into a small stack buffer. */
static __always_inline int xps_sel_is(const __u8 *sel, const char *lit, __u32 len)
{
	for (__u32 i = 0; i < len; i++)
		if (sel[i] != (__u8)lit[i])
			return 0;
	return 1;
}

static __always_inline __u64 xps_sel_uint(const __u8 *sel, __u32 len, int big_endian)
{
	__u64 v = 0;

	for (__u32 i = 0; i < len; i++)
		v = (v << 8) | sel[big_endian ? i : len - 1 - i];
	return v;
}

/* A dispatch arm that gives a verdict takes the rest of the segment as its message. */
static __always_inline int xps_arm_verdict(struct xps_scratch *s, __u32 verdict)
{
	s->verdict = verdict;
	s->msg_len = s->seg_len - s->msg_start;
	s->malformed = 0;
	return verdict;
}

/* ------------------------------------------------------------------ UDP (XDP) */

/* What the reply to a datagram needs from the request's headers. An IPv6 datagram's addresses are not
 * copied here: the reply reads them from the request's own header (still intact then), so the flow, which
 * every entry program zeroes and fills, is as small as for IPv4 alone (saddr and daddr stay 0). */
struct xps_udp_flow {
	__u8 src_mac[ETH_ALEN];
	__u8 dst_mac[ETH_ALEN];
	__be32 saddr;		/* IPv4 only */
	__be32 daddr;		/* IPv4 only */
	__be16 sport;
	__be16 dport;
	__u8 tos;		/* IPv4 TOS, IPv6 traffic class */
	__u8 ipv6;		/* 0: Ethernet / IPv4, 1: Ethernet / IPv6 (the IPv6 header at byte 14) */
	__u32 payload_off;
	__u32 payload_len;
};

/* An IPv4 address predicate (from, to) matches IPv4 datagrams only, an IPv6 one IPv6 datagrams only. */
static __always_inline int xps_udp_is_ipv4(const struct xps_udp_flow *f)
{
	return !f->ipv6;
}

/* Ethernet / IPv4 (options allowed, no fragments) / UDP. Returns 0 when the packet is one. */
static __always_inline int xps_parse_udp4(struct xdp_md *ctx, struct xps_udp_flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 ihl, ulen, total;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->protocol != IPPROTO_UDP)
		return -1;
	if (ip->frag_off & bpf_htons(0x3fff))	/* more fragments, or a fragment offset */
		return -1;
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip))
		return -1;
	udp = (void *)ip + ihl;
	if ((void *)(udp + 1) > data_end)
		return -1;
	ulen = bpf_ntohs(udp->len);
	total = bpf_ntohs(ip->tot_len);
	if (ulen < sizeof(*udp) || total < ihl + ulen
	    || sizeof(*eth) + total > bpf_xdp_get_buff_len(ctx))
		return -1;
	__builtin_memcpy(f->src_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(f->dst_mac, eth->h_dest, ETH_ALEN);
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	f->sport = udp->source;
	f->dport = udp->dest;
	f->tos = ip->tos;
	f->payload_off = sizeof(*eth) + ihl + sizeof(*udp);
	f->payload_len = ulen - sizeof(*udp);
	return 0;
}

/* The fixed IPv6 header (struct ipv6hdr of linux/ipv6.h, without its bitfields). */
struct xps_ip6hdr {
	__be32 vtc_flow;	/* version 4 bits, traffic class 8, flow label 20 */
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__be32 saddr[4];
	__be32 daddr[4];
};

/* Whether an IPv6 datagram's source (dst 0) or destination (dst 1) address lies in n0..n3 / m0..m3 (network
 * order words); read from the header at byte 14, where xps_parse_udp found it. */
static __always_inline int xps_udp_ip6_in(struct xdp_md *ctx, const struct xps_udp_flow *f, int dst, __u32 n0,
					  __u32 n1, __u32 n2, __u32 n3, __u32 m0, __u32 m1, __u32 m2, __u32 m3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xps_ip6hdr *ip6 = data + sizeof(struct ethhdr);
	const __u32 *a;

	if (!f->ipv6 || (void *)(ip6 + 1) > data_end)
		return 0;
	a = dst ? ip6->daddr : ip6->saddr;
	return xps_ip6_in(a[0], a[1], a[2], a[3], n0, n1, n2, n3, m0, m1, m2, m3);
}

/* Ethernet / IPv6 / UDP: the UDP header right after the fixed header (no extension headers, so
 * no fragments either), a UDP length within the IPv6 payload, a checksum (0 is not allowed over
 * IPv6: the kernel drops such a datagram, and so does this path, by passing it). Returns 0 when
 * the packet is one. */
static __always_inline int xps_parse_udp6(struct xdp_md *ctx, struct xps_udp_flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xps_ip6hdr *ip6;
	struct udphdr *udp;
	__u32 ulen, plen, head;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return -1;
	ip6 = (void *)(eth + 1);
	udp = (void *)(ip6 + 1);
	if ((void *)(udp + 1) > data_end || ip6->nexthdr != IPPROTO_UDP
	    || (ip6->vtc_flow & bpf_htonl(0xf0000000)) != bpf_htonl(0x60000000) || udp->check == 0)
		return -1;
	ulen = bpf_ntohs(udp->len);
	plen = bpf_ntohs(ip6->payload_len);
	if (ulen < sizeof(*udp) || plen < ulen
	    || sizeof(*eth) + sizeof(*ip6) + plen > bpf_xdp_get_buff_len(ctx))
		return -1;
	__builtin_memcpy(f->src_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(f->dst_mac, eth->h_dest, ETH_ALEN);
	f->sport = udp->source;
	f->dport = udp->dest;
	head = bpf_ntohl(ip6->vtc_flow);
	f->tos = head >> 20;
	f->ipv6 = 1;
	f->payload_off = sizeof(*eth) + sizeof(*ip6) + sizeof(*udp);
	f->payload_len = ulen - sizeof(*udp);
	return 0;
}

/* Ethernet / IPv4 or IPv6 / UDP (xps_parse_udp4, xps_parse_udp6). Returns 0 when the packet is one. */
static __always_inline int xps_parse_udp(struct xdp_md *ctx, struct xps_udp_flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return xps_parse_udp4(ctx, f);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return xps_parse_udp6(ctx, f);
	return -1;
}

static __always_inline __u16 xps_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The reply's headers: Ethernet, IPv4 without options, UDP. */
struct xps_reply_hdr {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
} __attribute__((packed));

/* The reply's headers over IPv6: Ethernet, IPv6 without extension headers, UDP. */
struct xps_reply6_hdr {
	struct ethhdr eth;
	struct xps_ip6hdr ip;
	struct udphdr udp;
} __attribute__((packed));

/* The ones'-complement sum of n 16-bit words at p (n a constant), in the words' own byte order: the
 * checksum comes out in network order when the words are (RFC 1071's byte-order independence). */
static __always_inline __u32 xps_csum_words(const void *p, __u32 n)
{
	const __u16 *w = p;
	__u32 sum = 0;

	for (__u32 i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

/* The reply's headers, built on the stack then written into the packet. */
union xps_reply_buf {
	struct xps_reply_hdr h4;
	struct xps_reply6_hdr h6;
	__u16 w[32];
};

#define XPS_REPLY_UNCHANGED (-1)	/* no room to resize: the request is intact */
#define XPS_REPLY_BROKEN (-2)		/* resized but not rewritten (not expected to happen) */

/* Resizes the packet in ctx to want bytes: at the tail, or at the head when the tail has no room.
 * Returns 0 or XPS_REPLY_UNCHANGED. */
static __always_inline int xps_xdp_resize(struct xdp_md *ctx, __u32 want)
{
	__u32 have = bpf_xdp_get_buff_len(ctx);

	if (want > have) {
		if (bpf_xdp_adjust_tail(ctx, want - have) && bpf_xdp_adjust_head(ctx, -(int)(want - have)))
			return XPS_REPLY_UNCHANGED;
	} else if (want < have) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(have - want)))
			return XPS_REPLY_UNCHANGED;
	}
	return 0;
}

/* Adds the response's len bytes (s->resp) to sum: in 512-byte pieces (what bpf_csum_diff takes),
 * the last one zero-padded to a multiple of 4. */
static __always_inline __u64 xps_csum_resp(struct xps_scratch *s, __u32 len, __u64 sum)
{
	for (__u32 i = 0; i < 4; i++)
		s->resp[(len + i) & XPS_RMASK] = 0;
	for (__u32 off = 0; off < XPS_RESPONSE; off += 512) {
		__u32 piece;

		if (off >= len)
			break;
		piece = len - off < 512 ? (len - off + 3) & ~3u : 512;
		if (piece > 512)
			piece = 512;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&s->resp[off], piece, (__wsum)sum);	/* sum < 2^32 */
	}
	return sum;
}

/* xps_xdp_reply for an IPv4 request. */
static __always_inline int xps_xdp_reply4(struct xdp_md *ctx, const struct xps_udp_flow *f, struct xps_scratch *s)
{
	union xps_reply_buf b;
	struct xps_reply_hdr *h = &b.h4;
	__u16 *w = b.w;
	void *data, *data_end;
	__u32 len = s->resp_len;
	__u64 sum;

	if (len > XPS_RESPONSE)
		return XPS_REPLY_UNCHANGED;
	if (xps_xdp_resize(ctx, sizeof(*h) + len))
		return XPS_REPLY_UNCHANGED;
	__builtin_memset(h, 0, sizeof(*h));

	__builtin_memcpy(h->eth.h_dest, f->src_mac, ETH_ALEN);
	__builtin_memcpy(h->eth.h_source, f->dst_mac, ETH_ALEN);
	h->eth.h_proto = bpf_htons(ETH_P_IP);
	h->ip.version = 4;
	h->ip.ihl = 5;
	h->ip.tos = f->tos;
	h->ip.tot_len = bpf_htons(sizeof(h->ip) + sizeof(h->udp) + len);
	h->ip.ttl = 64;
	h->ip.protocol = IPPROTO_UDP;
	h->ip.saddr = f->daddr;
	h->ip.daddr = f->saddr;
	/* the IPv4 header is words 7..16 of the 42 bytes (check is still 0) */
	h->ip.check = xps_csum_fold(xps_csum_words(&w[7], 10));
	h->udp.source = f->dport;
	h->udp.dest = f->sport;
	h->udp.len = bpf_htons(sizeof(h->udp) + len);

	/* UDP checksum: the pseudo-header (addresses, protocol, UDP length) and the UDP header (words
	 * 17..20), then the response */
	sum = xps_csum_words(&w[13], 4) + bpf_htons(IPPROTO_UDP) + h->udp.len + xps_csum_words(&w[17], 4);
	sum = xps_csum_resp(s, len, sum);
	h->udp.check = xps_csum_fold(sum);
	if (h->udp.check == 0)
		h->udp.check = 0xffff;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(*h) <= data_end) {
		__u16 *to = data;

		for (__u32 i = 0; i < 21; i++)
			to[i] = w[i];
	} else if (bpf_xdp_store_bytes(ctx, 0, h, sizeof(*h))) {
		return XPS_REPLY_BROKEN;
	}
	if (len > 0 && bpf_xdp_store_bytes(ctx, sizeof(*h), s->resp, len))
		return XPS_REPLY_BROKEN;
	return 0;
}

/* xps_xdp_reply for an IPv6 request: a fixed header without extension headers, hop limit 64, the
 * request's traffic class, flow label 0; the addresses are read from the request before it is resized.
 * A function of its own (a BPF-to-BPF call): inlined, its stack would be the entry program's, which a
 * tail call limits (256 bytes with the frames below it), and the IPv4 path would pay for its spills. */
static __noinline int xps_xdp_reply6(struct xdp_md *ctx, const struct xps_udp_flow *f, struct xps_scratch *s)
{
	union xps_reply_buf b;
	struct xps_reply6_hdr *h = &b.h6;
	__u16 *w = b.w;
	struct xps_ip6hdr *req;
	void *data, *data_end;
	__u32 len = s->resp_len;
	__u64 sum;

	if (len > XPS_RESPONSE)
		return XPS_REPLY_UNCHANGED;
	__builtin_memset(h, 0, sizeof(*h));
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	req = data + sizeof(struct ethhdr);
	if ((void *)(req + 1) > data_end)
		return XPS_REPLY_UNCHANGED;
	__builtin_memcpy(h->ip.saddr, req->daddr, 16);
	__builtin_memcpy(h->ip.daddr, req->saddr, 16);
	if (xps_xdp_resize(ctx, sizeof(*h) + len))
		return XPS_REPLY_UNCHANGED;

	__builtin_memcpy(h->eth.h_dest, f->src_mac, ETH_ALEN);
	__builtin_memcpy(h->eth.h_source, f->dst_mac, ETH_ALEN);
	h->eth.h_proto = bpf_htons(ETH_P_IPV6);
	h->ip.vtc_flow = bpf_htonl(0x60000000 | ((__u32)f->tos << 20));
	h->ip.payload_len = bpf_htons(sizeof(h->udp) + len);
	h->ip.nexthdr = IPPROTO_UDP;
	h->ip.hop_limit = 64;
	h->udp.source = f->dport;
	h->udp.dest = f->sport;
	h->udp.len = h->ip.payload_len;

	/* UDP checksum (RFC 8200 8.1): the pseudo-header (addresses, words 11..26; upper-layer length,
	 * whose upper 16 bits are 0; next header) and the UDP header (words 27..30), then the response.
	 * Never 0: over IPv6 0 is not "no checksum" but invalid. */
	sum = xps_csum_words(&w[11], 16) + bpf_htons(IPPROTO_UDP) + h->udp.len + xps_csum_words(&w[27], 4);
	sum = xps_csum_resp(s, len, sum);
	h->udp.check = xps_csum_fold(sum);
	if (h->udp.check == 0)
		h->udp.check = 0xffff;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(*h) <= data_end) {
		__u16 *to = data;

		for (__u32 i = 0; i < 31; i++)
			to[i] = w[i];
	} else if (bpf_xdp_store_bytes(ctx, 0, h, sizeof(*h))) {
		return XPS_REPLY_BROKEN;
	}
	if (len > 0 && bpf_xdp_store_bytes(ctx, sizeof(*h), s->resp, len))
		return XPS_REPLY_BROKEN;
	return 0;
}

/* Turns the request in ctx into the reply: the response from s->resp, MACs, addresses and ports
 * swapped, the checksums computed (IPv4: header and UDP; IPv6: UDP). Returns 0 or XPS_REPLY_*.
 * The headers' checksums are summed here (a few additions); only the response goes through
 * bpf_csum_diff. The headers are written into the packet directly, the response with
 * bpf_xdp_store_bytes (its length is not a constant). */
static __always_inline int xps_xdp_reply(struct xdp_md *ctx, const struct xps_udp_flow *f, struct xps_scratch *s)
{
	if (f->ipv6)
		return xps_xdp_reply6(ctx, f, s);
	return xps_xdp_reply4(ctx, f, s);
}

#endif /* XPS_RUNTIME_H */
