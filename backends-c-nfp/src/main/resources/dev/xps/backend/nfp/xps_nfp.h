/*
 * xps_nfp.h: the XPS runtime for Netronome sandbox (Micro-C) handlers, written by xpsc beside
 * every generated plugin. The decode primitives follow docs/language.md ("Decode") exactly; the
 * Java runtime's dev.xps.runtime.Message is the reference they are tested against.
 *
 * Built for the NIC by nfp4build (the SDK section below), or on a host with -DXPS_HOST against
 * pif_host.h for xpsc's tests (backends-c-nfp/README.md says what that does and does not prove).
 */
#ifndef XPS_NFP_H
#define XPS_NFP_H

#ifdef XPS_HOST
#include "pif_host.h"
#else
/* ---- Netronome SDK (nfp4build). Not compiled by xpsc's tests: no SDK here. ---- */
#include <stdint.h>
#include <nfp.h>
#include <nfp/mem_atomic.h>
#include <pif_plugin.h>
#include <pif_common.h>
#include <pkt_ops.h>

/* The UDP payload starts at pkt_pl_off in CTM; XPS limits messages (1,472 bytes) so that a
 * datagram fits one Ethernet frame; the part beyond the CTM buffer is in MU (split packets). */
static uint32_t xps_pkt_payload_len(EXTRACTED_HEADERS_T *headers) {
    return pif_pkt_info_global.pkt_len - pif_pkt_info_global.pkt_pl_off;
}
static void xps_pkt_payload_read(EXTRACTED_HEADERS_T *headers, __lmem uint8_t *to, uint32_t len) {
    __mem40 uint8_t *payload = pkt_ctm_ptr40(0, pif_pkt_info_global.pkt_num, pif_pkt_info_global.pkt_pl_off);
    uint32_t i;
    for (i = 0; i < len; i++) {
        to[i] = payload[i];
    }
}
static void xps_pkt_payload_write(EXTRACTED_HEADERS_T *headers, const __lmem uint8_t *from, uint32_t len) {
    __mem40 uint8_t *payload = pkt_ctm_ptr40(0, pif_pkt_info_global.pkt_num, pif_pkt_info_global.pkt_pl_off);
    uint32_t i;
    for (i = 0; i < len; i++) {
        payload[i] = from[i];
    }
    pif_pkt_info_global.pkt_len = pif_pkt_info_global.pkt_pl_off + len;
}
static void xps_pkt_meta_set(EXTRACTED_HEADERS_T *headers, uint32_t verdict, uint32_t resp_len) {
    pif_plugin_meta_set__xps_meta__verdict(headers, verdict);
    pif_plugin_meta_set__xps_meta__resp_len(headers, resp_len);
}
#define xps_atomic_incr64(p) mem_incr64(p)
#define xps_atomic_add64(v, p) mem_add64_imm((v), (p))
#define xps_atomic_sub64(v, p) mem_sub64_imm((v), (p))
#endif

#ifdef XPS_HOST
#define xps_atomic_incr64(p) mem_incr64(p)
#define xps_atomic_add64(v, p) mem_add64((v), (p))
#define xps_atomic_sub64(v, p) mem_sub64((v), (p))
#endif

/* Where per-packet buffers live: thread-local memory on the NIC, the stack on a host. */
#define XPS_BUF __lmem
/* Where map storage lives: external memory, exported so the agent reaches it by symbol. */
#define XPS_MEM __emem

/* ------------------------------------------------------------------ outcomes */

#define XPS_OK 0
#define XPS_INCOMPLETE 1
#define XPS_MALFORMED 2

/* Verdicts; also the values of the P4 metadata field xps_meta.verdict. */
#define XPS_V_TX 0
#define XPS_V_DROP 1
#define XPS_V_PASS 2
#define XPS_V_RESET 3
/* A handler's result when its message is incomplete: the datagram goes to the service. */
#define XPS_V_INCOMPLETE 4

/* ------------------------------------------------------------------ messages */

struct xps_msg {
    XPS_BUF const uint8_t *data;
    uint32_t size;      /* bytes of the message that arrived */
    uint32_t cursor;    /* sequential reads */
    uint32_t furthest;  /* the furthest byte any operation read */
    int32_t frame;      /* set by frame, or -1 */
    uint32_t length;    /* the message's length once decoded */
};

static void xps_msg_init(struct xps_msg *m, XPS_BUF const uint8_t *data, uint32_t size) {
    m->data = data;
    m->size = size;
    m->cursor = 0;
    m->furthest = 0;
    m->frame = -1;
    m->length = size;
}

static uint32_t xps_avail(const struct xps_msg *m) {
    return m->size - m->cursor;
}

static void xps_advance(struct xps_msg *m, uint32_t n) {
    m->cursor += n;
    if (m->cursor > m->furthest) {
        m->furthest = m->cursor;
    }
}

static uint8_t xps_fold(uint8_t b) {
    return (b >= 'A' && b <= 'Z') ? (uint8_t) (b + ('a' - 'A')) : b;
}

/* expect / expect_ci: malformed on a mismatch, incomplete if a matching prefix is all there is. */
static int xps_expect(struct xps_msg *m, const uint8_t *lit, uint32_t n, int ci) {
    uint32_t k = n < xps_avail(m) ? n : xps_avail(m);
    uint32_t i;
    for (i = 0; i < k; i++) {
        uint8_t a = m->data[m->cursor + i];
        if (a != lit[i] && !(ci && xps_fold(a) == xps_fold(lit[i]))) {
            return XPS_MALFORMED;
        }
    }
    if (k < n) {
        return XPS_INCOMPLETE;
    }
    xps_advance(m, n);
    return XPS_OK;
}

static int xps_skip(struct xps_msg *m, uint32_t n) {
    if (n > xps_avail(m)) {
        return XPS_INCOMPLETE;
    }
    xps_advance(m, n);
    return XPS_OK;
}

static int xps_skip_var(struct xps_msg *m, uint64_t n, uint32_t max) {
    if (n > max) {
        return XPS_MALFORMED;
    }
    return xps_skip(m, (uint32_t) n);
}

/* The offset (from the message start) of the first delimiter within max bytes of the cursor. */
static int xps_find(const struct xps_msg *m, const uint8_t *delim, uint32_t dlen, uint32_t max, uint32_t *at) {
    int64_t first = m->cursor;
    int64_t last = (int64_t) m->size - dlen;
    int64_t p;
    if (first + max < last) {
        last = first + max;
    }
    for (p = first; p <= last; p++) {
        if (memcmp(m->data + p, delim, dlen) == 0) {
            *at = (uint32_t) p;
            return XPS_OK;
        }
    }
    /* Every allowed position was fully visible and none matched: it never will. */
    if ((uint64_t) xps_avail(m) >= (uint64_t) max + dlen) {
        return XPS_MALFORMED;
    }
    return XPS_INCOMPLETE;
}

static int xps_skip_until(struct xps_msg *m, const uint8_t *delim, uint32_t dlen, uint32_t max) {
    uint32_t at;
    int st = xps_find(m, delim, dlen, max, &at);
    if (st != XPS_OK) {
        return st;
    }
    xps_advance(m, at - m->cursor + dlen);
    return XPS_OK;
}

static int xps_until(struct xps_msg *m, const uint8_t *delim, uint32_t dlen, uint32_t max,
                     XPS_BUF uint8_t *out, uint32_t *out_len) {
    uint32_t at;
    int st = xps_find(m, delim, dlen, max, &at);
    if (st != XPS_OK) {
        return st;
    }
    *out_len = at - m->cursor;
    memcpy(out, m->data + m->cursor, *out_len);
    xps_advance(m, at - m->cursor + dlen);
    return XPS_OK;
}

/* 1..max ASCII digits; the byte after them is looked at, not consumed. */
static int xps_decimal(struct xps_msg *m, uint32_t max_digits, uint64_t *value) {
    uint64_t v = 0;
    uint32_t i;
    for (i = 0; i <= max_digits; i++) {
        uint8_t b;
        if (m->cursor + i >= m->size) {
            return XPS_INCOMPLETE;
        }
        b = m->data[m->cursor + i];
        if (b < '0' || b > '9') {
            if (i == 0) {
                return XPS_MALFORMED;
            }
            xps_advance(m, i);
            *value = v;
            return XPS_OK;
        }
        if (i == max_digits) {
            return XPS_MALFORMED;
        }
        v = v * 10 + (uint64_t) (b - '0');
    }
    return XPS_MALFORMED; /* unreachable */
}

static int xps_bytes(struct xps_msg *m, uint32_t n, XPS_BUF uint8_t *out, uint32_t *out_len) {
    if (n > xps_avail(m)) {
        return XPS_INCOMPLETE;
    }
    memcpy(out, m->data + m->cursor, n);
    *out_len = n;
    xps_advance(m, n);
    return XPS_OK;
}

static int xps_bytes_var(struct xps_msg *m, uint64_t n, uint32_t max, XPS_BUF uint8_t *out, uint32_t *out_len) {
    if (n > max) {
        return XPS_MALFORMED;
    }
    return xps_bytes(m, (uint32_t) n, out, out_len);
}

static int xps_reach(struct xps_msg *m, uint32_t offset, uint32_t n) {
    if ((uint64_t) offset + n > m->size) {
        return XPS_INCOMPLETE;
    }
    if (offset + n > m->furthest) {
        m->furthest = offset + n;
    }
    return XPS_OK;
}

static int xps_bytes_at(struct xps_msg *m, uint32_t offset, uint32_t n, XPS_BUF uint8_t *out, uint32_t *out_len) {
    int st = xps_reach(m, offset, n);
    if (st != XPS_OK) {
        return st;
    }
    memcpy(out, m->data + offset, n);
    *out_len = n;
    return XPS_OK;
}

static uint64_t xps_read_uint(XPS_BUF const uint8_t *p, uint32_t width, int big_endian) {
    uint64_t v = 0;
    uint32_t i;
    for (i = 0; i < width; i++) {
        uint8_t b = big_endian ? p[i] : p[width - 1 - i];
        v = (v << 8) | b;
    }
    return v;
}

static int xps_uint(struct xps_msg *m, uint32_t width, int big_endian, uint64_t *value) {
    if (width > xps_avail(m)) {
        return XPS_INCOMPLETE;
    }
    *value = xps_read_uint(m->data + m->cursor, width, big_endian);
    xps_advance(m, width);
    return XPS_OK;
}

static int xps_uint_at(struct xps_msg *m, uint32_t offset, uint32_t width, int big_endian, uint64_t *value) {
    int st = xps_reach(m, offset, width);
    if (st != XPS_OK) {
        return st;
    }
    *value = xps_read_uint(m->data + offset, width, big_endian);
    return XPS_OK;
}

/* frame: the message is exactly n bytes. */
static int xps_frame(struct xps_msg *m, uint64_t n, uint32_t max) {
    if (n > max || n < m->furthest) {
        return XPS_MALFORMED;
    }
    if (n > m->size) {
        return XPS_INCOMPLETE;
    }
    m->frame = (int32_t) n;
    return XPS_OK;
}

static int xps_end_decode(struct xps_msg *m) {
    uint32_t decoded = m->frame >= 0 ? (uint32_t) m->frame : (m->cursor > m->furthest ? m->cursor : m->furthest);
    /* An empty message would consume nothing and stall a segment walk. */
    if (decoded == 0) {
        return XPS_MALFORMED;
    }
    m->length = decoded;
    return XPS_OK;
}

/* A dispatch selector: incomplete when the message is too short to hold it. */
static int xps_peek(const struct xps_msg *m, uint32_t offset, uint32_t n) {
    return (uint64_t) offset + n > m->size ? XPS_INCOMPLETE : XPS_OK;
}

/* ------------------------------------------------------------------ expressions */

/* Shifts by 64 or more give 0 (docs/language.md), unlike C. */
static uint64_t xps_shl(uint64_t a, uint64_t n) {
    return n >= 64 ? 0 : a << n;
}

static uint64_t xps_shr(uint64_t a, uint64_t n) {
    return n >= 64 ? 0 : a >> n;
}

/* Bytes compare by length and content. */
static int xps_bytes_eq(XPS_BUF const uint8_t *a, uint32_t alen, XPS_BUF const uint8_t *b, uint32_t blen) {
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* ------------------------------------------------------------------ responses */

struct xps_out {
    XPS_BUF uint8_t *buf;
    uint32_t len;
    uint32_t cap;
};

static void xps_out_bytes(struct xps_out *o, XPS_BUF const uint8_t *p, uint32_t n) {
    if (o->len + n <= o->cap) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    }
}

static void xps_out_uint(struct xps_out *o, uint64_t v, uint32_t width, int big_endian) {
    uint32_t i;
    if (o->len + width > o->cap) {
        return;
    }
    for (i = 0; i < width; i++) {
        uint32_t shift = 8 * (big_endian ? width - 1 - i : i);
        o->buf[o->len + i] = (uint8_t) (v >> shift);
    }
    o->len += width;
}

static void xps_out_decimal(struct xps_out *o, uint64_t v) {
    uint8_t digits[20];
    uint32_t n = 0;
    uint32_t i;
    do {
        digits[n++] = (uint8_t) ('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (o->len + n > o->cap) {
        return;
    }
    for (i = 0; i < n; i++) {
        o->buf[o->len + i] = digits[n - 1 - i];
    }
    o->len += n;
}

/* One UDP datagram is one message: incomplete goes to the service, only tx keeps a response. */
static int xps_message_verdict(int v, struct xps_out *o) {
    if (v == XPS_V_INCOMPLETE) {
        v = XPS_V_PASS;
    }
    if (v != XPS_V_TX) {
        o->len = 0;
    }
    return v;
}

/* ------------------------------------------------------------------ maps */

#define XPS_HASH 0
#define XPS_ARRAY 1
#define XPS_LOG 2

#define XPS_SLOT_EMPTY 0
#define XPS_SLOT_USED 1
#define XPS_SLOT_DELETED 2

/*
 * Every map is an array of slots in EMEM, laid out for the agent (backends-c-nfp/README.md):
 *   u32 state | u32 key length | u32 value length | u32 reserved | u64 hits | key[key_room] | value[value_room]
 * Keys and values are in the canonical layout (integers little-endian in their width).
 * hash: open addressing, linear probing, FNV-1a; array: slot = index; log: slot = index - 1.
 */
struct xps_map {
    XPS_MEM uint8_t *slots;
    XPS_MEM uint64_t *count;  /* hash: entries; log: last index */
    uint32_t nslots;
    uint32_t slot_size;
    uint32_t key_room;
    uint32_t value_max;
    uint32_t value_int_width; /* integer values: their width; bytes: 0 */
    uint64_t capacity;
    uint32_t kind;
    uint32_t stats;
};

#define XPS_SLOT_HEADER 24

static XPS_MEM uint8_t *xps_slot(const struct xps_map *map, uint32_t i) {
    return map->slots + (uint64_t) i * map->slot_size;
}

static XPS_MEM uint32_t *xps_slot_word(XPS_MEM uint8_t *slot, uint32_t word) {
    return (XPS_MEM uint32_t *) (slot + 4 * word);
}

static uint64_t xps_key_index(const uint8_t *key, uint32_t klen) {
    uint64_t v = 0;
    uint32_t i;
    for (i = klen; i > 0; i--) {
        v = (v << 8) | key[i - 1];
    }
    return v;
}

static uint32_t xps_hash(const uint8_t *key, uint32_t klen) {
    uint32_t h = 2166136261u;
    uint32_t i;
    for (i = 0; i < klen; i++) {
        h = (h ^ key[i]) * 16777619u;
    }
    return h;
}

/* The slot holding key in a hash map, or -1. */
static int64_t xps_hash_find(const struct xps_map *map, const uint8_t *key, uint32_t klen) {
    uint32_t start = xps_hash(key, klen) % map->nslots;
    uint32_t i;
    for (i = 0; i < map->nslots; i++) {
        uint32_t s = (start + i) % map->nslots;
        XPS_MEM uint8_t *slot = xps_slot(map, s);
        uint32_t state = *xps_slot_word(slot, 0);
        if (state == XPS_SLOT_EMPTY) {
            return -1;
        }
        if (state == XPS_SLOT_USED && *xps_slot_word(slot, 1) == klen
                && memcmp(slot + XPS_SLOT_HEADER, key, klen) == 0) {
            return s;
        }
    }
    return -1;
}

/* The slot of key in any map kind, or -1 when it has none (a miss). */
static int64_t xps_map_slot(const struct xps_map *map, const uint8_t *key, uint32_t klen) {
    uint64_t index;
    if (map->kind == XPS_HASH) {
        return xps_hash_find(map, key, klen);
    }
    index = xps_key_index(key, klen);
    if (map->kind == XPS_ARRAY) {
        return index < map->capacity && index < map->nslots ? (int64_t) index : -1;
    }
    return index >= 1 && index <= *map->count && index <= map->nslots ? (int64_t) (index - 1) : -1;
}

/* lookup: 1 and the value on a hit (counted when the map keeps stats), 0 on a miss. */
static int xps_map_get(const struct xps_map *map, const uint8_t *key, uint32_t klen,
                       XPS_BUF uint8_t *value, uint32_t *vlen, int count_hit) {
    int64_t s = xps_map_slot(map, key, klen);
    XPS_MEM uint8_t *slot;
    if (s < 0) {
        return 0;
    }
    slot = xps_slot(map, (uint32_t) s);
    /* An array slot never written holds zero: integer 0 or empty bytes. */
    *vlen = map->value_int_width != 0 ? map->value_int_width : *xps_slot_word(slot, 2);
    memcpy(value, slot + XPS_SLOT_HEADER + map->key_room, *vlen);
    if (count_hit && map->stats) {
        xps_atomic_incr64((XPS_MEM uint64_t *) (slot + 16));
    }
    return 1;
}

static void xps_slot_store(const struct xps_map *map, XPS_MEM uint8_t *slot, const uint8_t *key, uint32_t klen,
                           const uint8_t *value, uint32_t vlen) {
    *xps_slot_word(slot, 1) = klen;
    memcpy(slot + XPS_SLOT_HEADER, key, klen);
    *xps_slot_word(slot, 2) = vlen;
    memcpy(slot + XPS_SLOT_HEADER + map->key_room, value, vlen);
    *xps_slot_word(slot, 0) = XPS_SLOT_USED;
}

/* update: 0 when a new key does not fit (full hash map, index out of range). */
static int xps_map_put(const struct xps_map *map, const uint8_t *key, uint32_t klen, const uint8_t *value,
                       uint32_t vlen) {
    int64_t s = xps_map_slot(map, key, klen);
    uint32_t start;
    uint32_t i;
    if (s >= 0) {
        xps_slot_store(map, xps_slot(map, (uint32_t) s), key, klen, value, vlen);
        return 1;
    }
    if (map->kind != XPS_HASH || *map->count >= map->capacity || *map->count >= map->nslots) {
        return 0;
    }
    start = xps_hash(key, klen) % map->nslots;
    for (i = 0; i < map->nslots; i++) {
        XPS_MEM uint8_t *slot = xps_slot(map, (start + i) % map->nslots);
        if (*xps_slot_word(slot, 0) != XPS_SLOT_USED) {
            *(XPS_MEM uint64_t *) (slot + 16) = 0;
            xps_slot_store(map, slot, key, klen, value, vlen);
            xps_atomic_add64(1, map->count);
            return 1;
        }
    }
    return 0;
}

/* delete: absent keys are fine; an array slot goes back to zero. */
static void xps_map_delete(const struct xps_map *map, const uint8_t *key, uint32_t klen) {
    int64_t s = xps_map_slot(map, key, klen);
    XPS_MEM uint8_t *slot;
    if (s < 0 || map->kind == XPS_LOG) {
        return;
    }
    slot = xps_slot(map, (uint32_t) s);
    if (map->kind == XPS_HASH) {
        *xps_slot_word(slot, 0) = XPS_SLOT_DELETED;
        xps_atomic_sub64(1, map->count);
    } else {
        *xps_slot_word(slot, 2) = 0;
        memset(slot + XPS_SLOT_HEADER + map->key_room, 0, map->value_max);
    }
}

/* append: the new entry's index (from 1), or 0 when the log is full. */
static uint64_t xps_map_append(const struct xps_map *map, const uint8_t *value, uint32_t vlen) {
    uint64_t index = *map->count + 1;
    XPS_MEM uint8_t *slot;
    if (index > map->capacity || index > map->nslots) {
        return 0;
    }
    slot = xps_slot(map, (uint32_t) (index - 1));
    *xps_slot_word(slot, 2) = vlen;
    memcpy(slot + XPS_SLOT_HEADER + map->key_room, value, vlen);
    *xps_slot_word(slot, 0) = XPS_SLOT_USED;
    /* The entry is stored before the index that makes it visible. */
    xps_atomic_add64(1, map->count);
    return index;
}

static void xps_put_le(uint8_t *to, uint64_t v, uint32_t width) {
    uint32_t i;
    for (i = 0; i < width; i++) {
        to[i] = (uint8_t) (v >> (8 * i));
    }
}

static uint64_t xps_get_le(const uint8_t *from, uint32_t width) {
    return xps_key_index(from, width);
}

#endif
