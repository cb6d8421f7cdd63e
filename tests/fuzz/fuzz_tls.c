/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tls.c - libFuzzer target: arbitrary bytes as the start of a guest
 * TCP stream, given to the ClientHello parser whole and as every 64th
 * prefix (the filter re-parses each time a segment arrives), to the HTTP
 * Host parser, and as an allowlist pattern / name to match. Checks the
 * invariants callers rely on: DONE never claims more bytes than given,
 * NEED_MORE asks for more than given, names are NUL-terminated host names.
 */
#include <stdlib.h>
#include <string.h>

#include "forwarder/allow.h"
#include "forwarder/http.h"
#include "forwarder/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t len, uint8_t *scratch, size_t cap)
{
	struct tls_client_hello ch;
	int rc = tls_parse_client_hello(data, len, scratch, cap, &ch);

	if (rc == TLS_DONE && (ch.consumed > len || ch.hs_len > cap))
		abort();
	if (rc == TLS_NEED_MORE && ch.need <= len)
		abort();
	if (rc == TLS_DONE && ch.has_sni != (ch.sni[0] != '\0'))
		abort();
	if (strlen(ch.sni) > TLS_SNI_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[TLS_CH_MAX_DEFAULT];
	static struct allowlist al;
	static int ready;
	char host[TLS_SNI_MAX + 1], name[300], err[256];
	size_t cut;

	if (!ready) {
		allow_init(&al);
		allow_add(&al, "allowed.test", err, sizeof(err));
		allow_add(&al, "*.cdn.test", err, sizeof(err));
		ready = 1;
	}
	check(data, size, scratch, sizeof(scratch));
	check(data, size, scratch, 512);
	for (cut = 0; cut < size; cut += 64)
		check(data, cut, scratch, sizeof(scratch));

	if (http_host_parse(data, size, HTTP_HEAD_MAX_DEFAULT, host, sizeof(host)) == HTTP_DONE &&
	    (strlen(host) == 0 || strlen(host) > TLS_SNI_MAX))
		abort();

	if (size < sizeof(name)) {
		struct allowlist *tmp;

		memcpy(name, data, size);
		name[size] = '\0';
		(void)allow_match(&al, name);
		tmp = malloc(sizeof(*tmp));
		if (tmp) {
			allow_init(tmp);
			if (allow_add(tmp, name, err, sizeof(err)) == 0 && tmp->n != 1)
				abort();
			free(tmp);
		}
	}
	return 0;
}
