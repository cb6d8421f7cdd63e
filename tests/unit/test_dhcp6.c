/* SPDX-License-Identifier: MIT */
/*
 * test_dhcp6.c - the DHCPv6 server without I/O: Information-Request,
 * Solicit/Advertise/Request/Reply, Rapid Commit, Renew, Rebind, Confirm,
 * Release, Decline, stable addresses per (DUID, IAID), pool exhaustion,
 * stateless mode, other servers' messages and malformed messages.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "netstack/dhcp6.h"

static struct dhcp6_server srv;
static const uint8_t gw_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};
static const uint8_t cl_mac[6] = {0x02, 0, 0, 0, 0, 0x42};

/* a message under construction */
struct m6 {
	uint8_t b[1500];
	size_t n;
};

static void a6(const char *s, uint8_t *out)
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void begin(struct m6 *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = type;
	m->b[1] = 0x12;
	m->b[2] = 0x34;
	m->b[3] = 0x56;
	m->n = 4;
}

static void opt(struct m6 *m, uint16_t code, const void *data, size_t len)
{
	put16(m->b + m->n, code);
	put16(m->b + m->n + 2, (uint16_t)len);
	if (len)
		memcpy(m->b + m->n + 4, data, len);
	m->n += 4 + len;
}

/* DUID-LL of MAC 02:00:00:00:00:<id> */
static void clientid(struct m6 *m, uint8_t id)
{
	uint8_t d[10] = {0, 3, 0, 1, 2, 0, 0, 0, 0, id};

	opt(m, 1, d, sizeof(d));
}

static void serverid(struct m6 *m)
{
	uint8_t d[10] = {0, 3, 0, 1};

	memcpy(d + 4, gw_mac, 6);
	opt(m, 2, d, sizeof(d));
}

/* IA_NA with @iaid and, when @addr, one IAADDR */
static void ia_na(struct m6 *m, uint32_t iaid, const char *addr)
{
	uint8_t b[12 + 28] = {0};

	b[0] = (uint8_t)(iaid >> 24);
	b[1] = (uint8_t)(iaid >> 16);
	b[2] = (uint8_t)(iaid >> 8);
	b[3] = (uint8_t)iaid;
	if (addr) {
		put16(b + 12, 5);
		put16(b + 14, 24);
		a6(addr, b + 16);
	}
	opt(m, 3, b, addr ? sizeof(b) : 12);
}

/* find top-level option @code in a reply; NULL if absent */
static const uint8_t *find(const struct dhcp6_reply *r, uint16_t code, size_t *len)
{
	size_t i = 4;

	while (i + 4 <= r->len) {
		size_t l = get16(r->data + i + 2);

		cr_assert(i + 4 + l <= r->len, "reply option runs past the end");
		if (get16(r->data + i) == code) {
			*len = l;
			return r->data + i + 4;
		}
		i += 4 + l;
	}
	return NULL;
}

/* the address of the first IA_NA of @r, or false; sets iaid/lifetimes */
static bool ia_addr(const struct dhcp6_reply *r, uint8_t *addr, uint32_t *valid, uint16_t *status)
{
	size_t l, i;
	const uint8_t *p = find(r, 3, &l);

	*status = 0;
	if (!p)
		return false;
	cr_assert_geq(l, 12);
	for (i = 12; i + 4 <= l; i += 4 + get16(p + i + 2)) {
		if (get16(p + i) == 5) {
			memcpy(addr, p + i + 4, 16);
			*valid = get32(p + i + 4 + 20);
			return true;
		}
		if (get16(p + i) == 13)
			*status = get16(p + i + 4);
	}
	return false;
}

static int run(struct m6 *m, struct dhcp6_reply *r, uint64_t now)
{
	return dhcp6_input(&srv, now, cl_mac, m->b, m->n, r);
}

static void setup_cfg(uint32_t count, bool stateful)
{
	struct dhcp6_config c = {
	    .first = 0x100,
	    .count = count,
	    .lease_s = 3600,
	    .search = "vgate.internal example.test",
	    .stateful = stateful,
	};

	memcpy(c.server_mac, gw_mac, 6);
	a6("fd00:5a94:efe4::", c.prefix);
	a6("fd00:5a94:efe4::1", c.dns);
	cr_assert_eq(dhcp6_init(&srv, &c), 0);
}

static void setup(void)
{
	setup_cfg(16, true);
}

static void teardown(void)
{
	dhcp6_free(&srv);
}

TestSuite(dhcp6, .init = setup, .fini = teardown);

Test(dhcp6, information_request)
{
	struct m6 m;
	struct dhcp6_reply r;
	const uint8_t *p;
	size_t l;
	uint8_t dns[16];
	static const uint8_t names[] = "\x05vgate\x08internal\x00\x07"
				       "example\x04test";

	begin(&m, 11);
	clientid(&m, 1);
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert_eq(r.type, 7);
	cr_assert_eq(r.data[0], 7);
	cr_assert(!memcmp(r.data + 1, "\x12\x34\x56", 3), "xid echoed");
	p = find(&r, 23, &l);
	cr_assert(p && l == 16);
	a6("fd00:5a94:efe4::1", dns);
	cr_assert(!memcmp(p, dns, 16));
	p = find(&r, 24, &l);
	cr_assert(p);
	cr_assert_eq(l, sizeof(names)); /* with the final root label */
	cr_assert(!memcmp(p, names, l));
	p = find(&r, 2, &l);
	cr_assert(p && l == 10 && get16(p) == 3 && get16(p + 2) == 1 && !memcmp(p + 4, gw_mac, 6));
	cr_assert(find(&r, 1, &l) && l == 10);
	p = find(&r, 32, &l);
	cr_assert(p && l == 4 && get32(p) == 3600);
	cr_assert(!find(&r, 3, &l));
	cr_assert_eq(srv.st.inform, 1);
	cr_assert_eq(srv.st.reply, 1);
	/* without a Client Identifier too (RFC 8415 allows it) */
	begin(&m, 11);
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert(!find(&r, 1, &l));
	/* an IA option in an Information-Request is invalid */
	begin(&m, 11);
	ia_na(&m, 1, NULL);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, 1);
}

Test(dhcp6, solicit_request_renew_rebind_release)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16], b[16];
	uint32_t valid;
	uint16_t st;
	size_t l, i;

	begin(&m, 1);
	clientid(&m, 1);
	ia_na(&m, 7, NULL);
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert_eq(r.type, 2);
	cr_assert(ia_addr(&r, a, &valid, &st));
	cr_assert_eq(valid, 3600);
	cr_assert(!memcmp(a, "\xfd\x00\x5a\x94\xef\xe4\0\0\0\0\0\0", 12), "in the /64");
	cr_assert_geq(get32(a + 12), 0x100);
	cr_assert_lt(get32(a + 12), 0x110);
	cr_assert(find(&r, 23, &l), "DNS in the Advertise");
	cr_assert(find(&r, 7, &l) && l == 1 && *find(&r, 7, &l) == 255, "Preference 255");
	/* held, not bound */
	cr_assert(dhcp6_lease_at(&srv, get32(a + 12) - 0x100, 1000, b));
	cr_assert_eq(srv.leases[get32(a + 12) - 0x100].state, DHCP6_LEASE_OFFERED);

	begin(&m, 3);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 7, NULL);
	cr_assert_eq(run(&m, &r, 2000), 1);
	cr_assert_eq(r.type, 7);
	cr_assert(ia_addr(&r, b, &valid, &st));
	cr_assert(!memcmp(a, b, 16), "Request gets the advertised address");
	i = get32(a + 12) - 0x100;
	cr_assert_eq(srv.leases[i].state, DHCP6_LEASE_BOUND);
	cr_assert(!memcmp(srv.leases[i].mac, cl_mac, 6));
	cr_assert_eq(srv.leases[i].expires_ms, 2000 + 3600000);

	/* Renew extends */
	begin(&m, 5);
	clientid(&m, 1);
	serverid(&m);
	{
		char s[64];

		inet_ntop(AF_INET6, a, s, sizeof(s));
		ia_na(&m, 7, s);
	}
	cr_assert_eq(run(&m, &r, 100000), 1);
	cr_assert(ia_addr(&r, b, &valid, &st));
	cr_assert(!memcmp(a, b, 16));
	cr_assert_eq(srv.leases[i].expires_ms, 100000 + 3600000);

	/* Rebind (no Server Identifier) extends too */
	begin(&m, 6);
	clientid(&m, 1);
	ia_na(&m, 7, NULL);
	cr_assert_eq(run(&m, &r, 200000), 1);
	cr_assert(ia_addr(&r, b, &valid, &st));
	cr_assert(!memcmp(a, b, 16));
	cr_assert_eq(srv.st.renew, 1);
	cr_assert_eq(srv.st.rebind, 1);

	/* Release frees it */
	begin(&m, 8);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 7, NULL);
	cr_assert_eq(run(&m, &r, 300000), 1);
	cr_assert_eq(r.type, 7);
	cr_assert(find(&r, 13, &l) && get16(find(&r, 13, &l)) == 0, "Success");
	cr_assert(!find(&r, 23, &l), "no configuration in a Release Reply");
	cr_assert_null(dhcp6_lease_at(&srv, i, 300000, b));
	cr_assert_eq(srv.st.release, 1);
}

Test(dhcp6, stable_per_duid_and_iaid)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16], b[16], c[16];
	uint32_t valid;
	uint16_t st;

	begin(&m, 1);
	clientid(&m, 1);
	ia_na(&m, 7, NULL);
	run(&m, &r, 1000);
	cr_assert(ia_addr(&r, a, &valid, &st));
	/* a fresh server (vgate restarted) hands out the same address */
	dhcp6_free(&srv);
	setup_cfg(16, true);
	run(&m, &r, 1000);
	cr_assert(ia_addr(&r, b, &valid, &st));
	cr_assert(!memcmp(a, b, 16));
	/* another IAID of the same client gets another address */
	begin(&m, 3);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 8, NULL);
	run(&m, &r, 1000);
	cr_assert(ia_addr(&r, c, &valid, &st));
	cr_assert(memcmp(a, c, 16));
}

Test(dhcp6, rapid_commit)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16];
	uint32_t valid;
	uint16_t st;
	size_t l;

	begin(&m, 1);
	clientid(&m, 2);
	opt(&m, 14, NULL, 0);
	ia_na(&m, 1, NULL);
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert_eq(r.type, 7, "Reply, not Advertise");
	cr_assert(find(&r, 14, &l) && l == 0);
	cr_assert(ia_addr(&r, a, &valid, &st));
	cr_assert_eq(srv.leases[get32(a + 12) - 0x100].state, DHCP6_LEASE_BOUND);
}

Test(dhcp6, request_for_another_server_ignored)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t other[10] = {0, 3, 0, 1, 1, 2, 3, 4, 5, 6};

	begin(&m, 3);
	clientid(&m, 1);
	opt(&m, 2, other, sizeof(other));
	ia_na(&m, 7, NULL);
	cr_assert_eq(run(&m, &r, 1000), 0);
	cr_assert_eq(srv.st.ignored, 1);
	/* a Request without a Server Identifier is invalid */
	begin(&m, 3);
	clientid(&m, 1);
	ia_na(&m, 7, NULL);
	cr_assert_eq(run(&m, &r, 1000), -1);
	/* a Solicit with one is invalid */
	begin(&m, 1);
	clientid(&m, 1);
	serverid(&m);
	cr_assert_eq(run(&m, &r, 1000), -1);
	/* server and relay messages are not served */
	begin(&m, 7);
	cr_assert_eq(run(&m, &r, 1000), 0);
	begin(&m, 12);
	cr_assert_eq(run(&m, &r, 1000), 0);
	cr_assert_eq(srv.st.ignored, 3);
	cr_assert_eq(srv.st.bad, 2);
}

Test(dhcp6, pool_exhausted)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16];
	uint32_t valid;
	uint16_t st;
	size_t l;
	int i;

	dhcp6_free(&srv);
	setup_cfg(2, true);
	for (i = 1; i <= 2; i++) {
		begin(&m, 3);
		clientid(&m, (uint8_t)i);
		serverid(&m);
		ia_na(&m, 1, NULL);
		cr_assert_eq(run(&m, &r, 1000), 1);
		cr_assert(ia_addr(&r, a, &valid, &st));
	}
	begin(&m, 1);
	clientid(&m, 3);
	ia_na(&m, 1, NULL);
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert_eq(r.type, 2);
	cr_assert(!ia_addr(&r, a, &valid, &st));
	cr_assert_eq(st, 2, "IA_NA NoAddrsAvail");
	cr_assert(find(&r, 13, &l) && get16(find(&r, 13, &l)) == 2, "top-level NoAddrsAvail");
	cr_assert_eq(srv.st.no_addrs, 1);
	/* once a lease expires its address is free again */
	cr_assert_eq(run(&m, &r, 1000 + 3600000 + 1), 1);
	cr_assert(ia_addr(&r, a, &valid, &st));
}

Test(dhcp6, stateless_mode)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16];
	uint32_t valid;
	uint16_t st;

	dhcp6_free(&srv);
	setup_cfg(16, false);
	cr_assert_eq(dhcp6_ra_flags(&srv), DHCP6_RA_OTHER);
	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 14, NULL, 0);
	ia_na(&m, 1, NULL);
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert_eq(r.type, 2, "Advertise: Rapid Commit has nothing to commit");
	cr_assert(!ia_addr(&r, a, &valid, &st));
	cr_assert_eq(st, 2);
}

Test(dhcp6, ra_flags)
{
	struct dhcp6_server z;

	memset(&z, 0, sizeof(z));
	cr_assert_eq(dhcp6_ra_flags(&srv), DHCP6_RA_MANAGED | DHCP6_RA_OTHER);
	cr_assert_eq(dhcp6_ra_flags(NULL), 0);
	cr_assert_eq(dhcp6_ra_flags(&z), 0);
}

Test(dhcp6, confirm)
{
	struct m6 m;
	struct dhcp6_reply r;
	size_t l;

	begin(&m, 4);
	clientid(&m, 1);
	ia_na(&m, 1, "fd00:5a94:efe4::1234");
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert(find(&r, 13, &l) && get16(find(&r, 13, &l)) == 0);
	begin(&m, 4);
	clientid(&m, 1);
	ia_na(&m, 1, "2001:db8::5");
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert(find(&r, 13, &l) && get16(find(&r, 13, &l)) == 4, "NotOnLink");
	/* no addresses: no Reply */
	begin(&m, 4);
	clientid(&m, 1);
	ia_na(&m, 1, NULL);
	cr_assert_eq(run(&m, &r, 1000), 0);
	cr_assert_eq(srv.st.confirm, 3);
}

Test(dhcp6, renew_after_restart_and_foreign_address)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16];
	uint32_t valid;
	uint16_t st;
	size_t l;
	const uint8_t *p;

	/* vgate restarted: the client renews an address of the range: kept */
	begin(&m, 5);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 9, "fd00:5a94:efe4::105");
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert(ia_addr(&r, a, &valid, &st));
	cr_assert_eq(get32(a + 12), 0x105);
	cr_assert_eq(valid, 3600);
	/* an address not of this link: answered with lifetimes 0 */
	begin(&m, 5);
	clientid(&m, 4);
	serverid(&m);
	ia_na(&m, 9, "2001:db8::5");
	cr_assert_eq(run(&m, &r, 1000), 1);
	p = find(&r, 3, &l);
	cr_assert(p && l == 12 + 28);
	cr_assert_eq(get32(p + 12 + 4 + 20), 0);
	cr_assert_eq(get32(p + 12 + 4 + 16), 0);
}

Test(dhcp6, decline_parks_address)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16], b[16];
	uint32_t valid;
	uint16_t st;
	char s[64];

	begin(&m, 3);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 1, NULL);
	run(&m, &r, 1000);
	cr_assert(ia_addr(&r, a, &valid, &st));
	inet_ntop(AF_INET6, a, s, sizeof(s));
	begin(&m, 9);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 1, s);
	cr_assert_eq(run(&m, &r, 2000), 1);
	cr_assert_eq(srv.leases[get32(a + 12) - 0x100].state, DHCP6_LEASE_DECLINED);
	cr_assert_null(dhcp6_lease_at(&srv, get32(a + 12) - 0x100, 2000, b));
	/* the next Request gets another address */
	begin(&m, 3);
	clientid(&m, 1);
	serverid(&m);
	ia_na(&m, 1, s);
	run(&m, &r, 3000);
	cr_assert(ia_addr(&r, b, &valid, &st));
	cr_assert(memcmp(a, b, 16));
	cr_assert_eq(srv.st.decline, 1);
}

Test(dhcp6, ia_pd_and_ta_not_served)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t pd[12] = {0, 0, 0, 1};
	size_t l;
	const uint8_t *p;

	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 25, pd, sizeof(pd));
	cr_assert_eq(run(&m, &r, 1000), 1);
	p = find(&r, 25, &l);
	cr_assert(p && l == 12 + 4 + 2 + strlen("no prefixes delegated"));
	cr_assert_eq(get16(p + 12), 13);
	cr_assert_eq(get16(p + 16), 6, "NoPrefixAvail");
}

Test(dhcp6, fqdn_hostname)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t a[16];
	uint32_t valid;
	uint16_t st;
	uint8_t fq[] = "\x01\x05guest\x07example";

	begin(&m, 3);
	clientid(&m, 1);
	serverid(&m);
	opt(&m, 39, fq, sizeof(fq));
	ia_na(&m, 1, NULL);
	run(&m, &r, 1000);
	cr_assert(ia_addr(&r, a, &valid, &st));
	cr_assert_str_eq(srv.leases[get32(a + 12) - 0x100].hostname, "guest");
}

Test(dhcp6, malformed)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint8_t b[64];
	uint64_t bad = 0;

	/* truncated header */
	cr_assert_eq(dhcp6_input(&srv, 1000, NULL, (const uint8_t *)"\x0b\x01", 2, &r), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* option header cut */
	begin(&m, 11);
	m.b[m.n++] = 0;
	m.b[m.n++] = 1;
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* option length past the end */
	begin(&m, 11);
	clientid(&m, 1);
	put16(m.b + 6, 200);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* IA_NA shorter than its fixed part */
	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 3, "\0\0\0\1", 4);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* IAADDR nested option running past the IA_NA */
	memset(b, 0, sizeof(b));
	put16(b + 12, 5);
	put16(b + 14, 40); /* IA_NA body is only 12 + 4 + 24 */
	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 3, b, 12 + 4 + 24);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* IAADDR too short */
	put16(b + 14, 10);
	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 3, b, 12 + 4 + 10);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* option inside an IAADDR running past it */
	put16(b + 14, 24 + 4);
	put16(b + 16 + 24, 13);
	put16(b + 16 + 24 + 2, 9);
	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 3, b, 12 + 4 + 24 + 4);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* two Client Identifiers */
	begin(&m, 1);
	clientid(&m, 1);
	clientid(&m, 2);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* DUID longer than 130 bytes */
	begin(&m, 1);
	opt(&m, 1, m.b + 200, 131);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* Rapid Commit with a body */
	begin(&m, 1);
	clientid(&m, 1);
	opt(&m, 14, "x", 1);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* unknown message type */
	begin(&m, 99);
	clientid(&m, 1);
	cr_assert_eq(run(&m, &r, 1000), -1);
	cr_assert_eq(srv.st.bad, ++bad);
	/* empty datagram */
	cr_assert_eq(dhcp6_input(&srv, 1000, NULL, m.b, 0, &r), -1);
	cr_assert_eq(srv.st.bad, ++bad);
}

Test(dhcp6, many_ias_bounded)
{
	struct m6 m;
	struct dhcp6_reply r;
	uint32_t k;

	/* more IAs than answered and a long DUID: the reply stays in bounds */
	begin(&m, 3);
	{
		uint8_t d[130];

		memset(d, 7, sizeof(d));
		d[0] = 0;
		d[1] = 4;
		opt(&m, 1, d, sizeof(d));
	}
	serverid(&m);
	for (k = 0; k < 20; k++)
		ia_na(&m, k, "2001:db8::1");
	cr_assert_eq(run(&m, &r, 1000), 1);
	cr_assert_leq(r.len, sizeof(r.data));
	{
		size_t l;

		cr_assert(find(&r, 2, &l));
	}
	cr_assert_eq(srv.st.bad, 0);
}

Test(dhcp6, init_bounds)
{
	struct dhcp6_server s;
	struct dhcp6_config c = {.first = 0x100, .count = DHCP6_MAX_LEASES + 1};

	cr_assert_eq(dhcp6_init(&s, &c), -EINVAL);
	c.count = 10;
	c.first = 0xfffffffa;
	cr_assert_eq(dhcp6_init(&s, &c), -EINVAL);
	c.first = 0;
	c.count = 0;
	cr_assert_eq(dhcp6_init(&s, &c), 0);
	cr_assert_eq(s.cfg.count, DHCP6_LEASES_DEFAULT);
	dhcp6_free(&s);
	dhcp6_free(&s);
}
