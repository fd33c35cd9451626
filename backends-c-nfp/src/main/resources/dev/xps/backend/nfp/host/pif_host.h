/*
 * pif_host.h: a host stand-in for the parts of the Netronome SDK sandbox API that XPS's
 * generated Micro-C uses, so that gcc can compile and run the handler logic on an ordinary
 * machine (xpsc test --target nfp). It is NOT the SDK: address-space qualifiers are defined
 * away, atomics are plain increments, and the packet is a buffer. What this proves and what it
 * does not: backends-c-nfp/README.md.
 */
#ifndef XPS_PIF_HOST_H
#define XPS_PIF_HOST_H

#include <stdint.h>
#include <string.h>

/* Address spaces and storage classes of Micro-C: meaningless on the host. */
#define __export
#define __emem
#define __imem
#define __cls
#define __lmem
#define __mem40
#define __xread
#define __xwrite
#define __xrw
#define __shared
#define __declspec(x)

/* Atomics on EMEM (nfp/mem_atomic.h): the host tests are single-threaded. */
static inline void mem_incr64(volatile uint64_t *addr) { *addr += 1; }
static inline void mem_add64(uint64_t value, volatile uint64_t *addr) { *addr += value; }
static inline void mem_sub64(uint64_t value, volatile uint64_t *addr) { *addr -= value; }

/* pif_plugin.h */
#define PIF_PLUGIN_RETURN_FORWARD 0
#define PIF_PLUGIN_RETURN_DROP 1
typedef struct { int unused; } EXTRACTED_HEADERS_T;
typedef struct { int unused; } MATCH_DATA_T;

/* The packet's UDP payload, as the sandbox would see it after the P4 parser. */
#define XPS_HOST_PKT_MAX 65536
static uint8_t xps_host_pkt[XPS_HOST_PKT_MAX];
static uint32_t xps_host_pkt_len;
/* What the P4 part reads back from the plugin's metadata. */
static uint32_t xps_host_meta_verdict;
static uint32_t xps_host_meta_resp_len;

static inline uint32_t xps_pkt_payload_len(EXTRACTED_HEADERS_T *headers) {
    (void) headers;
    return xps_host_pkt_len;
}
static inline void xps_pkt_payload_read(EXTRACTED_HEADERS_T *headers, uint8_t *to, uint32_t len) {
    (void) headers;
    memcpy(to, xps_host_pkt, len);
}
static inline void xps_pkt_payload_write(EXTRACTED_HEADERS_T *headers, const uint8_t *from, uint32_t len) {
    (void) headers;
    memcpy(xps_host_pkt, from, len);
    xps_host_pkt_len = len;
}
static inline void xps_pkt_meta_set(EXTRACTED_HEADERS_T *headers, uint32_t verdict, uint32_t resp_len) {
    (void) headers;
    xps_host_meta_verdict = verdict;
    xps_host_meta_resp_len = resp_len;
}

#endif
