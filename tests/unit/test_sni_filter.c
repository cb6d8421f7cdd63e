/* SPDX-License-Identifier: MIT */
/*
 * test_sni_filter.c - the SNI filter's ownership of its settings: it copies
 * the pattern and file-name strings it is given at creation and at each
 * reload (also when handed its own settings back), so the caller may free
 * its strings at once (ASan runs catch any use after free).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "forwarder/sni.h"

static void on_answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	(void)ctx;
	(void)c;
	(void)msg;
	(void)len;
}

Test(sni_filter, copies_the_strings_it_is_given)
{
	struct dns_config dcfg;
	struct fwd_config fcfg;
	struct sni_config *c = malloc(sizeof(*c));
	const struct sni_config *in;
	struct vg_loop *loop;
	struct sni_filter *f;
	struct dns *dns;
	struct fwd *fwd;
	char err[256], *a = strdup("example.com"), *b = strdup("*.example.org");

	cr_assert(c && a && b);
	dns_config_defaults(&dcfg);
	loop = vg_loop_new(dns_timers_needed(&dcfg) + 8);
	cr_assert_not_null(loop);
	dns = dns_new(loop, &dcfg, on_answer, NULL);
	fwd_config_defaults(&fcfg);
	fcfg.max_flows = 4;
	fwd = fwd_new(loop, &fcfg);
	cr_assert(dns && fwd);
	sni_config_defaults(c);
	c->allow[c->n_allow++] = a;
	f = sni_filter_new(loop, fwd, dns, c, NULL, NULL, err, sizeof(err));
	cr_assert_not_null(f, "%s", err);
	memset(a, 'x', strlen(a)); /* the caller's strings are the caller's */
	free(a);
	in = sni_filter_config(f);
	cr_assert_eq(in->n_allow, 1);
	cr_assert_str_eq(in->allow[0], "example.com");

	/* a reload with new strings, freed right after */
	c->allow[0] = b;
	cr_assert_eq(sni_filter_reload(f, c, err, sizeof(err)), 1, "%s", err);
	free(b);
	cr_assert_str_eq(sni_filter_config(f)->allow[0], "*.example.org");

	/* a reload with the filter's own settings (as PUT /policy does) */
	*c = *sni_filter_config(f);
	cr_assert_eq(sni_filter_reload(f, c, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(sni_filter_reload(f, sni_filter_config(f), err, sizeof(err)), 1, "%s", err);
	cr_assert_str_eq(sni_filter_config(f)->allow[0], "*.example.org");
	free(c);

	sni_filter_free(f);
	dns_free(dns);
	fwd_free(fwd);
	vg_loop_free(loop);
}
