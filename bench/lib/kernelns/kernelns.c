// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kernelns — ns per XDP handler run, from the kernel's own BPF_PROG_TEST_RUN `duration`.
 * Used by bench/kernel-ns (see bench/README.md, "kernel-ns"); needs root and libbpf.
 *
 *   kernelns [-n RUNS] [-r ROUNDS] [-R REPEAT] [-x] CASES [LABEL=]OBJ...
 *
 * CASES: comma-separated KEYLEN:VALUELEN memcached GET hits (e.g. 7:5,7:100,7:1000,64:1000), plus
 * the literal words `miss` (a 7-byte key not in the map) and `other` (a datagram to another port).
 * Every OBJ is a memcached-udp.bpf.o (samples/memcached-udp.xps, any build): each is loaded with
 * its own maps, its map `mc` is filled with the cases' keys (KEYLEN bytes 'k..' / VALUELEN bytes
 * 'v..', kernel layout: u32 length + zero-padded data), then ROUNDS rounds run, interleaved: in each
 * round every object runs every case RUNS times. A reply is checked once per case and object
 * (XDP_TX, the expected payload, valid IPv4 and UDP checksums) before anything is timed.
 *
 * Why each run is its own BPF_PROG_TEST_RUN (repeat 1): the kernel does not reset the packet
 * between repetitions, so with repeat > 1 only the first repetition sees the GET; the others see the
 * reply (a datagram to the client's port) and pass it. `duration` of a single repetition includes
 * the test runner's own overhead (a ktime read, bh disable/enable): the row `null` is a 2-instruction
 * XDP program (return XDP_PASS) measured the same way, so that overhead can be read off.
 * With -R N, `miss` and `other` (which do not modify the packet) are also run with repeat N, whose
 * mean has almost no timer overhead.
 *
 * -x (experiments only): do not check the reply's bytes, only that the verdict is XDP_TX.
 *
 * Output: one line per case and object: the median over rounds of each round's median ns, and the
 * lowest and highest round medians.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OBJ 8
#define MAX_CASE 16
#define PKT_MAX 4096

struct tcase {
	char name[32];
	int klen, vlen;		/* -1: not a hit */
	int index;
	int miss, other, null;
	uint8_t key[256];	/* KEYLEN bytes; the first one is the case's index, so keys differ */
	uint8_t pkt[PKT_MAX];
	int pkt_len;
};

struct obj {
	const char *path;
	const char *label;
	struct bpf_object *bo;
	int prog_fd;
	double *round_median[MAX_CASE];
};

static uint16_t csum_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint64_t csum_add(uint64_t s, const uint8_t *p, int n)
{
	for (int i = 0; i + 1 < n; i += 2)
		s += (p[i] << 8) | p[i + 1];
	if (n & 1)
		s += p[n - 1] << 8;
	return s;
}

static void fill(uint8_t *p, int n, char c)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(c == 'k' ? 'a' + i % 26 : 'A' + i % 26);
}

static void build(struct tcase *c)
{
	uint8_t *p = c->pkt, *key = c->key;
	int klen = c->klen > 0 ? c->klen : 7, n = 42;
	static const uint8_t hdr[8] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0 };

	memset(p, 0, PKT_MAX);
	memcpy(p, "\x02\0\0\0\0\x02", 6);		/* dst MAC */
	memcpy(p + 6, "\x02\0\0\0\0\x01", 6);		/* src MAC */
	p[12] = 0x08; p[13] = 0x00;
	fill(key, klen, 'k');
	key[0] = c->miss ? 'Z' : '0' + c->index;
	memcpy(p + n, hdr, 8);
	n += 8;
	memcpy(p + n, "get ", 4);
	n += 4;
	memcpy(p + n, key, klen);
	n += klen;
	memcpy(p + n, "\r\n", 2);
	n += 2;
	/* IPv4 */
	p[14] = 0x45;
	*(uint16_t *)(p + 16) = htons(n - 14);
	p[22] = 64;
	p[23] = 17;
	memcpy(p + 26, "\x0a\0\0\x01", 4);
	memcpy(p + 30, "\x0a\0\0\x02", 4);
	*(uint16_t *)(p + 24) = htons(csum_fold(csum_add(0, p + 14, 20)));
	/* UDP, checksum 0 (none) */
	*(uint16_t *)(p + 34) = htons(40000);
	*(uint16_t *)(p + 36) = htons(c->other ? 11212 : 11211);
	*(uint16_t *)(p + 38) = htons(n - 34);
	c->pkt_len = n;
}

static int fill_map(struct bpf_object *bo, struct tcase *cs, int ncase)
{
	struct bpf_map *m = bpf_object__find_map_by_name(bo, "mc");
	uint8_t key[1024], val[8192];
	int ks, vs;

	if (!m)
		return fprintf(stderr, "no map 'mc'\n"), -1;
	ks = bpf_map__key_size(m);
	vs = bpf_map__value_size(m);
	for (int i = 0; i < ncase; i++) {
		uint32_t kl = cs[i].klen, vl = cs[i].vlen;

		if (cs[i].klen < 0)
			continue;
		if ((int)(4 + kl) > ks || (int)(4 + vl) > vs)
			return fprintf(stderr, "case %s does not fit the map (key %d, value %d bytes)\n", cs[i].name, ks, vs), -1;
		memset(key, 0, sizeof(key));
		memset(val, 0, sizeof(val));
		memcpy(key, &kl, 4);
		memcpy(key + 4, cs[i].key, kl);
		memcpy(val, &vl, 4);
		fill(val + 4, vl, 'v');
		if (bpf_map__update_elem(m, key, ks, val, vs, BPF_ANY))
			return fprintf(stderr, "map update failed: %s\n", strerror(errno)), -1;
	}
	return 0;
}

static int run(int fd, struct tcase *c, int repeat, uint8_t *out, uint32_t *out_len, uint32_t *retval, uint32_t *dur)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = c->pkt, .data_size_in = c->pkt_len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err)
		return err;
	*retval = o.retval;
	*dur = o.duration;
	if (out_len)
		*out_len = o.data_size_out;
	return 0;
}

/* The reply must be XDP_TX with the memcached answer and valid checksums. */
static int nocheck;	/* -x: experiments that knowingly break the reply */

static int check(const char *obj, int fd, struct tcase *c)
{
	uint8_t out[PKT_MAX], want[PKT_MAX], v[8192];
	uint32_t len, ret, dur, w = 0;
	uint64_t s;

	if (run(fd, c, 1, out, &len, &ret, &dur))
		return fprintf(stderr, "%s %s: test run failed: %s\n", obj, c->name, strerror(errno)), -1;
	if (c->null || c->other || c->miss) {
		if (ret != XDP_PASS)
			return fprintf(stderr, "%s %s: retval %u, want XDP_PASS\n", obj, c->name, ret), -1;
		return 0;
	}
	if (ret != XDP_TX)
		return fprintf(stderr, "%s %s: retval %u, want XDP_TX\n", obj, c->name, ret), -1;
	if (nocheck)
		return 0;
	memcpy(want, "\x12\x34\0\0\0\x01\0\0VALUE ", 14);
	w = 14;
	memcpy(want + w, c->key, c->klen);
	w += c->klen;
	w += sprintf((char *)want + w, " 0 %d\r\n", c->vlen);
	fill(v, c->vlen, 'v');
	memcpy(want + w, v, c->vlen);
	w += c->vlen;
	memcpy(want + w, "\r\nEND\r\n", 7);
	w += 7;
	if (len != 42 + w || memcmp(out + 42, want, w))
		return fprintf(stderr, "%s %s: wrong reply (%u bytes, want %u)\n", obj, c->name, len, 42 + w), -1;
	if (csum_fold(csum_add(0, out + 14, 20)) != 0)
		return fprintf(stderr, "%s %s: bad IPv4 checksum\n", obj, c->name), -1;
	s = csum_add(0, out + 26, 8) + 17 + (len - 34);
	s = csum_add(s, out + 34, len - 34);
	if (csum_fold(s) != 0 || *(uint16_t *)(out + 40) == 0)
		return fprintf(stderr, "%s %s: bad UDP checksum\n", obj, c->name), -1;
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int null_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	return bpf_prog_load(BPF_PROG_TYPE_XDP, "kns_null", "GPL", insns, 2, NULL);
}

int main(int argc, char **argv)
{
	int runs = 20000, rounds = 7, repeat = 0, opt, ncase = 0, nobj = 0, null_fd;
	struct tcase *cs = calloc(MAX_CASE, sizeof(*cs));
	struct obj objs[MAX_OBJ] = {};
	char *spec, *tok, *save = NULL;
	double *samples;

	while ((opt = getopt(argc, argv, "n:r:R:x")) != -1) {
		if (opt == 'n')
			runs = atoi(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'R')
			repeat = atoi(optarg);
		else if (opt == 'x')
			nocheck = 1;
		else
			goto usage;
	}
	if (argc - optind < 2 || runs < 1 || rounds < 1)
		goto usage;
	spec = strdup(argv[optind++]);
	for (tok = strtok_r(spec, ",", &save); tok && ncase < MAX_CASE - 1; tok = strtok_r(NULL, ",", &save)) {
		struct tcase *c = &cs[ncase++];

		c->klen = c->vlen = -1;
		c->index = ncase - 1;
		snprintf(c->name, sizeof(c->name), "%s", tok);
		if (!strcmp(tok, "miss"))
			c->miss = 1;
		else if (!strcmp(tok, "other"))
			c->other = 1;
		else if (sscanf(tok, "%d:%d", &c->klen, &c->vlen) != 2 || c->klen < 1 || c->klen > 250 || c->vlen < 0
			 || c->vlen > 4096)
			goto usage;
		else
			snprintf(c->name, sizeof(c->name), "hit k%d v%d", c->klen, c->vlen);
		build(c);
	}
	cs[ncase].null = 1;	/* the timer's overhead: a program that only returns */
	snprintf(cs[ncase].name, sizeof(cs[ncase].name), "null");
	cs[ncase].klen = cs[ncase].vlen = -1;
	build(&cs[ncase]);
	ncase++;
	null_fd = null_prog();
	if (null_fd < 0)
		return fprintf(stderr, "cannot load the null XDP program: %s\n", strerror(errno)), 1;
	libbpf_set_print(NULL);
	for (; optind < argc && nobj < MAX_OBJ; optind++) {
		struct obj *o = &objs[nobj++];
		struct bpf_program *p;

		o->path = argv[optind];
		o->label = o->path;
		if (strchr(o->path, '=')) {
			char *eq = strchr(argv[optind], '=');

			*eq = 0;
			o->label = argv[optind];
			o->path = eq + 1;
		}
		o->bo = bpf_object__open_file(o->path, NULL);
		if (!o->bo || bpf_object__load(o->bo))
			return fprintf(stderr, "%s: cannot load: %s\n", o->path, strerror(errno)), 1;
		p = bpf_object__find_program_by_name(o->bo, "get_xdp");
		if (!p)
			return fprintf(stderr, "%s: no program get_xdp\n", o->path), 1;
		o->prog_fd = bpf_program__fd(p);
		if (fill_map(o->bo, cs, ncase))
			return 1;
		for (int i = 0; i < ncase; i++) {
			if (check(o->path, cs[i].null ? null_fd : o->prog_fd, &cs[i]))
				return 1;
			o->round_median[i] = calloc(rounds, sizeof(double));
		}
	}
	samples = calloc(runs, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		for (int j = 0; j < nobj; j++) {
			struct obj *o = &objs[(j + r) % nobj];	/* rotate who goes first */

			for (int i = 0; i < ncase; i++) {
				int fd = cs[i].null ? null_fd : o->prog_fd;

				for (int k = 0; k < runs; k++) {
					uint32_t ret, dur;

					if (run(fd, &cs[i], 1, NULL, NULL, &ret, &dur))
						return fprintf(stderr, "test run failed: %s\n", strerror(errno)), 1;
					samples[k] = dur;
				}
				o->round_median[i][r] = median(samples, runs);
			}
		}
	}
	printf("%-28s %-18s %9s %9s %9s\n", "object", "case", "median_ns", "min_rnd", "max_rnd");
	for (int i = 0; i < ncase; i++) {
		for (int j = 0; j < nobj; j++) {
			struct obj *o = &objs[j];
			double lo, hi, med;

			if (cs[i].null && j > 0)
				continue;
			med = median(o->round_median[i], rounds);
			lo = o->round_median[i][0];
			hi = o->round_median[i][rounds - 1];
			printf("%-28s %-18s %9.0f %9.0f %9.0f\n", cs[i].null ? "(2-insn XDP_PASS program)" : o->label,
			       cs[i].name, med, lo, hi);
		}
	}
	if (repeat > 1) {
		printf("\nrepeat %d (mean per repetition; only for cases that leave the packet alone):\n", repeat);
		for (int i = 0; i < ncase; i++) {
			if (!cs[i].miss && !cs[i].other && !cs[i].null)
				continue;
			for (int j = 0; j < nobj; j++) {
				uint32_t ret, dur;

				if (cs[i].null && j > 0)
					continue;
				if (run(cs[i].null ? null_fd : objs[j].prog_fd, &cs[i], repeat, NULL, NULL, &ret, &dur))
					return 1;
				printf("%-28s %-18s %9u\n", cs[i].null ? "(2-insn XDP_PASS program)" : objs[j].label,
				       cs[i].name, dur);
			}
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: kernelns [-n RUNS] [-r ROUNDS] [-R REPEAT] [-x] KLEN:VLEN,...[,miss][,other] [LABEL=]OBJ...\n");
	return 2;
}
