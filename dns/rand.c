/* SPDX-License-Identifier: MIT */
/*
 * rand.c - the getrandom() pool of rand.h. The pool is refilled whole when
 * the next request does not fit; a failed refill leaves it empty, so the
 * next call tries again.
 */
#include "rand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

void dns_rng_init(struct dns_rng *r)
{
	r->pos = sizeof(r->buf);
}

int dns_rand(struct dns_rng *r, void *buf, size_t len)
{
	if (len > sizeof(r->buf))
		return -EINVAL;
	if (r->pos + len > sizeof(r->buf)) {
		size_t got = 0;

		while (got < sizeof(r->buf)) {
			ssize_t n = getrandom(r->buf + got, sizeof(r->buf) - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r->pos = sizeof(r->buf);
				return n < 0 ? -errno : -EIO;
			}
			got += (size_t)n;
		}
		r->pos = 0;
	}
	memcpy(buf, r->buf + r->pos, len);
	r->pos += (unsigned int)len;
	return 0;
}
