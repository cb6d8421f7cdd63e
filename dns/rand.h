/* SPDX-License-Identifier: MIT */
/*
 * rand.h - random bytes for dns/ (hash seed, upstream query IDs) from a
 * small getrandom() pool, refilled when it runs out, so a query ID costs no
 * system call. A leaf: it calls nothing else in dns/. Internal to dns/.
 *
 * Ownership: the pool is embedded in its owner (struct dns) and used from
 * the loop thread only.
 */
#ifndef VGATE_DNS_RAND_H
#define VGATE_DNS_RAND_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct dns_rng - pool of random bytes
 * @buf:	bytes from getrandom()
 * @pos:	bytes of @buf used; sizeof(@buf) when empty
 */
struct dns_rng {
	uint8_t buf[256];
	unsigned int pos;
};

/**
 * dns_rng_init() - start with an empty pool (filled on first use)
 * @r:	pool
 */
void dns_rng_init(struct dns_rng *r);

/**
 * dns_rand() - take @len random bytes
 * @r:		pool
 * @buf:	destination
 * @len:	bytes, at most sizeof(r->buf)
 *
 * Return: 0, or -errno when the pool could not be refilled (@buf untouched;
 *	   predictable bytes are never handed out)
 */
int dns_rand(struct dns_rng *r, void *buf, size_t len);

#endif /* VGATE_DNS_RAND_H */
