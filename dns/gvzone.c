/* SPDX-License-Identifier: MIT */
/*
 * gvzone.c - gvproxy's DNS zones (its /services/dns/add and the "dns" list
 * of its configuration): a zone is a suffix such as "containers.internal."
 * with records that each match one name below it exactly or by a regular
 * expression, and an optional default address. For an A query under a
 * zone, the first matching record answers, else the default address, else
 * NXDOMAIN; any other type under a zone gets an empty NOERROR (gvproxy
 * serves IPv4 only). Answers carry TTL 0, as gvproxy's.
 *
 * How: a table of at most DNS_GVZONES_MAX zones, each allocated when it is
 * added (a vgate without zones pays one pointer), each with at most
 * DNS_GVZONE_RULES_MAX records whose expressions are compiled once
 * (POSIX extended, unanchored like Go's MatchString; gvproxy's Go/RE2
 * syntax shares the common subset). zone.c asks gvzone_answer() when no
 * static record names the query, so --dns-record and the built-in names
 * win. Adding a zone that exists puts the new records first, before the
 * old ones, and replaces the default address, as gvproxy does.
 *
 * Ownership: struct dns owns the table (d->gvz), freed by gvzone_free().
 */
#include "internal.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* one zone and its compiled expressions, allocated when the zone is added */
struct gvz_slot {
	struct dns_gvzone z;
	regex_t re[DNS_GVZONE_RULES_MAX];
	bool re_ok[DNS_GVZONE_RULES_MAX];
};

struct dns_gvzones {
	struct gvz_slot *s[DNS_GVZONES_MAX];
	int n;
};

/* @name without one trailing dot, lower case, into @out; Return: its length or -1 */
static int norm(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), i;

	if (n && name[n - 1] == '.')
		n--;
	if (n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	out[n] = '\0';
	return (int)n;
}

/* free the compiled expressions of @sl */
static void zone_clear_re(struct gvz_slot *sl)
{
	int k;

	for (k = 0; k < DNS_GVZONE_RULES_MAX; k++) {
		if (sl->re_ok[k])
			regfree(&sl->re[k]);
		sl->re_ok[k] = false;
	}
}

/**
 * zone_compile() - compile every rule's expression of @sl's zone
 * @sl:		slot
 * @err:	one line on failure
 * @errlen:	its size
 *
 * Return: 0, or -EINVAL (nothing compiled is kept)
 */
static int zone_compile(struct gvz_slot *sl, char *err, size_t errlen)
{
	const struct dns_gvzone *z = &sl->z;
	int k;

	for (k = 0; k < z->n_rules; k++) {
		const char *re = z->rules[k].regexp;
		int rc;

		if (!*re)
			continue;
		rc = regcomp(&sl->re[k], re, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char m[128];

			regerror(rc, &sl->re[k], m, sizeof(m));
			snprintf(err, errlen, "bad Regexp '%s': %s", re, m);
			zone_clear_re(sl);
			return -EINVAL;
		}
		sl->re_ok[k] = true;
	}
	return 0;
}

int dns_gvzone_add(struct dns *d, const struct dns_gvzone *z, char *err, size_t errlen)
{
	char key[DNS_NAME_TEXT_MAX], other[DNS_NAME_TEXT_MAX];
	struct gvz_slot *sl, *old = NULL;
	int i, k, at = -1;

	if (norm(z->name, key, sizeof(key)) <= 0 || z->n_rules < 0 ||
	    z->n_rules > DNS_GVZONE_RULES_MAX) {
		snprintf(err, errlen, "bad zone Name '%s'", z->name);
		return -EINVAL;
	}
	for (k = 0; k < z->n_rules; k++) {
		if (z->rules[k].ip.family != AF_INET ||
		    (!*z->rules[k].name && !*z->rules[k].regexp)) {
			snprintf(err, errlen,
				 "record %d: an IPv4 IP and a Name or Regexp are needed", k);
			return -EINVAL;
		}
	}
	if (!d->gvz && !(d->gvz = calloc(1, sizeof(*d->gvz)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < d->gvz->n; i++) {
		if (norm(d->gvz->s[i]->z.name, other, sizeof(other)) >= 0 && !strcmp(other, key)) {
			at = i;
			old = d->gvz->s[i];
			break;
		}
	}
	if (!old && d->gvz->n >= DNS_GVZONES_MAX) {
		snprintf(err, errlen, "more than %d zones", DNS_GVZONES_MAX);
		return -ENOSPC;
	}
	if (old && z->n_rules + old->z.n_rules > DNS_GVZONE_RULES_MAX) {
		snprintf(err, errlen, "zone %s: more than %d records", z->name,
			 DNS_GVZONE_RULES_MAX);
		return -ENOSPC;
	}
	/* the merged zone in a new slot: a bad expression changes nothing */
	sl = calloc(1, sizeof(*sl));
	if (!sl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sl->z = *z;
	if (old) {
		memcpy(&sl->z.rules[z->n_rules], old->z.rules,
		       (size_t)old->z.n_rules * sizeof(old->z.rules[0]));
		sl->z.n_rules = z->n_rules + old->z.n_rules;
	}
	if (zone_compile(sl, err, errlen) < 0) {
		free(sl);
		return -EINVAL;
	}
	if (old) {
		zone_clear_re(old);
		free(old);
		d->gvz->s[at] = sl;
	} else {
		d->gvz->s[d->gvz->n++] = sl;
	}
	return 0;
}

void dns_gvzone_foreach(struct dns *d, void (*fn)(void *ctx, const struct dns_gvzone *z), void *ctx)
{
	int i;

	if (!d->gvz)
		return;
	for (i = 0; i < d->gvz->n; i++)
		fn(ctx, &d->gvz->s[i]->z);
}

/* the A record answering @addr into @out */
static int answer_a(struct dns_data *out, const struct dns_addr *addr)
{
	out->len = (uint16_t)(addr ? wire_put_rr(out->bytes, DNS_TYPE_A, 0, addr->a, 4) : 0);
	out->an = addr ? 1 : 0;
	out->ns = out->ar = 0;
	out->ar_off = out->len;
	out->rcode = 0;
	out->dflags = 0;
	out->ede = 0;
	out->namelen = 0;
	return DNS_RCODE_NOERROR;
}

/**
 * gvzone_answer() - answer a query under one of gvproxy's zones
 * @d:		service
 * @q:		the query
 * @key:	its lower-case wire name
 * @out:	the answer records (zone_answer()'s contract)
 *
 * Return: DNS_RCODE_NOERROR (an A record, or NODATA), DNS_RCODE_NXDOMAIN,
 *	   or -ENOENT when no zone holds the name
 */
int gvzone_answer(const struct dns *d, const struct dns_qinfo *q, const uint8_t *key,
		  struct dns_data *out)
{
	const struct dns_gvzones *g = d->gvz;
	char name[DNS_NAME_TEXT_MAX];
	int i, k, nl;

	if (!g || !g->n || wire_name_to_text(key, name, sizeof(name)) < 0)
		return -ENOENT;
	nl = (int)strlen(name);
	for (i = 0; i < g->n; i++) {
		const struct gvz_slot *sl = g->s[i];
		const struct dns_gvzone *z = &sl->z;
		char zn[DNS_NAME_TEXT_MAX], below[DNS_NAME_TEXT_MAX];
		int zl = norm(z->name, zn, sizeof(zn)), bl;

		/* "NAME.ZONE": at least one label before ".ZONE" */
		if (zl <= 0 || nl < zl + 2 || name[nl - zl - 1] != '.' ||
		    strcmp(name + nl - zl, zn))
			continue;
		if (q->qtype != DNS_TYPE_A)
			return answer_a(out, NULL);
		bl = nl - zl - 1;
		memcpy(below, name, (size_t)bl);
		below[bl] = '\0';
		for (k = 0; k < z->n_rules; k++) {
			const struct dns_gvrule *r = &z->rules[k];

			if ((*r->name && !strcasecmp(r->name, below)) ||
			    (sl->re_ok[k] && regexec(&sl->re[k], below, 0, NULL, 0) == 0))
				return answer_a(out, &r->ip);
		}
		if (z->default_ip.family == AF_INET)
			return answer_a(out, &z->default_ip);
		return DNS_RCODE_NXDOMAIN;
	}
	return -ENOENT;
}

/**
 * gvzone_free() - free the zone table
 * @d:	service
 */
void gvzone_free(struct dns *d)
{
	int i;

	if (!d->gvz)
		return;
	for (i = 0; i < d->gvz->n; i++) {
		zone_clear_re(d->gvz->s[i]);
		free(d->gvz->s[i]);
	}
	free(d->gvz);
	d->gvz = NULL;
}
