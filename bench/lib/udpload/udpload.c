/*
 * udpload: a bounded closed-loop load generator for memcached's UDP protocol (bench/, not a test).
 *
 *   udpload HOST PORT REQUESTS CLIENTS KEYS [TIMEOUT_MS]
 *
 * CLIENTS sockets, each with one request in flight: "get key:%012d\r\n" behind memcached's 8-byte
 * UDP frame header (request id, sequence 0, 1 datagram, reserved), keys drawn uniformly from
 * 0..KEYS-1. A reply must echo the request id; a request without a reply after TIMEOUT_MS (200)
 * counts as lost and the client moves on. Exactly REQUESTS requests are sent, then it waits for the
 * last replies (bounded by TIMEOUT_MS) and prints one CSV line in redis-benchmark's shape:
 *   "test","rps","p50_latency_ms","p99_latency_ms","hits","misses","lost"
 * Latencies are per request, send to reply, in 1-microsecond buckets up to 100 ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 100000 /* 1 us each: 0 .. 100 ms */

struct client {
	int fd;
	uint16_t id;
	int busy;
	uint64_t sent_ns;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t hist[BUCKETS + 1];
static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double percentile(uint64_t total, double p)
{
	uint64_t want = (uint64_t)(total * p), seen = 0;

	for (int i = 0; i <= BUCKETS; i++) {
		seen += hist[i];
		if (seen > want)
			return i / 1000.0;
	}
	return BUCKETS / 1000.0;
}

static int send_request(struct client *c, long keys)
{
	char buf[64];
	int n;

	c->id++;
	buf[0] = c->id >> 8;
	buf[1] = c->id & 0xff;
	memset(buf + 2, 0, 6);
	buf[5] = 1; /* total datagrams: 1 */
	n = snprintf(buf + 8, sizeof(buf) - 8, "get key:%012ld\r\n", (long)(next_rand() % (uint64_t)keys));
	c->sent_ns = now_ns();
	c->busy = 1;
	return send(c->fd, buf, 8 + n, 0) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: udpload HOST PORT REQUESTS CLIENTS KEYS [TIMEOUT_MS]\n");
		return 2;
	}
	const char *host = argv[1];
	int port = atoi(argv[2]);
	long requests = atol(argv[3]);
	int nclients = atoi(argv[4]);
	long keys = atol(argv[5]);
	uint64_t timeout_ns = (argc > 6 ? atol(argv[6]) : 200) * 1000000ull;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	long sent = 0, done = 0, hits = 0, misses = 0, lost = 0, bad = 0;
	struct client *cl;
	int ep;

	if (port <= 0 || requests <= 0 || nclients <= 0 || keys <= 0 || inet_pton(AF_INET, host, &to.sin_addr) != 1) {
		fprintf(stderr, "udpload: bad arguments\n");
		return 2;
	}
	cl = calloc(nclients, sizeof(*cl));
	ep = epoll_create1(0);
	for (int i = 0; i < nclients; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		cl[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		cl[i].id = (uint16_t)(i * 7919);
		if (cl[i].fd < 0 || connect(cl[i].fd, (struct sockaddr *)&to, sizeof(to)) < 0
		    || epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev) < 0) {
			perror("udpload: socket");
			return 1;
		}
	}
	uint64_t start = now_ns();
	for (int i = 0; i < nclients && sent < requests; i++, sent++)
		if (send_request(&cl[i], keys))
			return perror("udpload: send"), 1;
	/* Bounded: every request ends as a reply or a loss within timeout_ns of being sent. */
	while (done < sent) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 10);
		uint64_t t;

		for (int e = 0; e < n; e++) {
			struct client *c = &cl[evs[e].data.u32];
			char buf[2048];
			ssize_t r;

			while ((r = recv(c->fd, buf, sizeof(buf), 0)) >= 0) {
				uint16_t id = ((uint8_t)buf[0] << 8) | (uint8_t)buf[1];

				if (r < 8 || !c->busy || id != c->id) {
					bad++; /* a late reply to a request already counted lost */
					continue;
				}
				uint64_t us = (now_ns() - c->sent_ns) / 1000;
				hist[us > BUCKETS ? BUCKETS : us]++;
				if (r >= 14 && memcmp(buf + 8, "VALUE ", 6) == 0)
					hits++;
				else
					misses++;
				c->busy = 0;
				done++;
				if (sent < requests) {
					sent++;
					if (send_request(c, keys))
						return perror("udpload: send"), 1;
				}
			}
		}
		t = now_ns();
		for (int i = 0; i < nclients; i++) {
			if (cl[i].busy && t - cl[i].sent_ns > timeout_ns) {
				cl[i].busy = 0;
				lost++;
				done++;
				if (sent < requests) {
					sent++;
					if (send_request(&cl[i], keys))
						return perror("udpload: send"), 1;
				}
			}
		}
	}
	double secs = (now_ns() - start) / 1e9;
	uint64_t answered = hits + misses;
	printf("\"test\",\"rps\",\"p50_latency_ms\",\"p99_latency_ms\",\"hits\",\"misses\",\"lost\"\n");
	printf("\"GET\",\"%.2f\",\"%.3f\",\"%.3f\",\"%lu\",\"%lu\",\"%ld\"\n", answered / secs,
	       percentile(answered, 0.50), percentile(answered, 0.99), (unsigned long)hits, (unsigned long)misses, lost);
	if (bad)
		fprintf(stderr, "udpload: %ld late replies ignored\n", bad);
	return 0;
}
