/* SPDX-License-Identifier: MIT */
/*
 * sni_config.c - the SNI filter's settings (struct sni_config, see sni.h):
 * defaults, the command-line options (--allow-sni, --allowlist-file,
 * --sni-ports, --allow-dest, --sni-timeout, --sni-grace, --dns-filter) and
 * the --allow-dest syntax in both directions.
 *
 * Plain parsing on values: no filter state, no allocation. A struct
 * sni_config filled here points into the option values it was given (the
 * --allow-sni patterns, the --allowlist-file path); the filter copies them
 * (sni.c), the option parser's caller keeps them for the struct's life.
 */
#include "forwarder/sni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/netutil.h"

const char *const sni_option_names[] = {
    "allow-sni",   "allowlist-file", "sni-ports",  "allow-dest",
    "sni-timeout", "sni-grace",	     "dns-filter", NULL,
};

void sni_config_defaults(struct sni_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ports[0] = 443;
	c->n_ports = 1;
	c->timeout_ms = SNI_TIMEOUT_MS_DEF;
	c->grace_ms = SNI_GRACE_MS_DEF;
	c->dns_filter = true;
	c->max_bytes = SNI_MAX_BYTES_DEF;
}

bool sni_config_enabled(const struct sni_config *c)
{
	return c->n_allow > 0 || c->allowlist_file != NULL;
}

/* "N" (seconds), "Nms", "Ns", "Nm" → milliseconds */
static int parse_duration(const char *s, uint64_t *ms)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > 100000000ull)
		return -1;
	if (strcmp(end, "ms") == 0)
		*ms = v;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		*ms = v * 1000;
	else if (strcmp(end, "m") == 0)
		*ms = v * 60000;
	else if (strcmp(end, "h") == 0)
		*ms = v * 3600000;
	else
		return -1;
	return 0;
}

/* the IPv6 part of sni_dest_parse(): "CIDR6" or "[CIDR6]:PORT" in @buf */
static int dest6_parse(char *buf, struct sni_dest *out)
{
	char *cidr = buf, *end;

	if (buf[0] == '[') {
		end = strchr(buf, ']');
		if (!end || end[1] != ':' ||
		    vg_port_parse(end + 2, strlen(end + 2), &out->port) < 0)
			return -1;
		*end = '\0';
		cidr = buf + 1;
	}
	if (fwd_cidr6_parse(cidr, out->net6, &out->prefix6) < 0)
		return -1;
	out->v6 = true;
	return 0;
}

int sni_dest_parse(const char *s, struct sni_dest *out)
{
	char buf[SNI_DEST_TEXT_MAX], *colon;
	size_t n = strlen(s);
	uint8_t prefix;

	memset(out, 0, sizeof(*out));
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	if (n > 4 && strcasecmp(buf + n - 4, "/tcp") == 0) {
		out->proto = 6;
		buf[n - 4] = '\0';
	} else if (n > 4 && strcasecmp(buf + n - 4, "/udp") == 0) {
		out->proto = 17;
		buf[n - 4] = '\0';
	} else if (n > 5 && strcasecmp(buf + n - 5, "/icmp") == 0) {
		out->proto = 1; /* echo, both families; no port */
		buf[n - 5] = '\0';
	}
	colon = strchr(buf, ':');
	if (buf[0] == '[' || (colon && strchr(colon + 1, ':'))) {
		if (dest6_parse(buf, out) < 0 || (out->proto == 1 && out->port)) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		return 0;
	}
	if (colon && out->proto == 1)
		return -1;
	if (colon) {
		if (vg_port_parse(colon + 1, strlen(colon + 1), &out->port) < 0)
			return -1;
		*colon = '\0';
	}
	if (fwd_cidr_parse(buf, &out->net, &prefix) < 0)
		return -1;
	out->mask = vg_ip4_mask(prefix);
	return 0;
}

void sni_dest_format(const struct sni_dest *d, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN], port[8] = "";
	const char *proto = d->proto == 6    ? "/tcp"
			    : d->proto == 17 ? "/udp"
			    : d->proto == 1  ? "/icmp"
					     : "";

	if (d->port)
		snprintf(port, sizeof(port), ":%u", d->port);
	if (d->v6) {
		inet_ntop(AF_INET6, d->net6, ip, sizeof(ip));
		if (d->port)
			snprintf(buf, len, "[%s/%u]%s%s", ip, d->prefix6, port, proto);
		else
			snprintf(buf, len, "%s/%u%s", ip, d->prefix6, proto);
		return;
	}
	inet_ntop(AF_INET, &d->net, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u%s%s", ip, vg_ip4_prefix_len(d->mask), port, proto);
}

int sni_config_option(struct sni_config *c, const char *name, const char *value, char *err,
		      size_t errlen)
{
	uint64_t ms;

	if (strcmp(name, "allow-sni") == 0) {
		if (allow_pattern_check(value, err, errlen) < 0)
			return -1;
		if (c->n_allow >= SNI_MAX_ALLOW_ARGS) {
			snprintf(err, errlen, "--allow-sni: at most %d (use --allowlist-file)",
				 SNI_MAX_ALLOW_ARGS);
			return -1;
		}
		c->allow[c->n_allow++] = value;
		return 0;
	}
	if (strcmp(name, "allowlist-file") == 0) {
		if (!value[0]) {
			snprintf(err, errlen, "--allowlist-file: empty path");
			return -1;
		}
		c->allowlist_file = value;
		return 0;
	}
	if (strcmp(name, "sni-ports") == 0) {
		const char *p = value;

		if (!c->ports_set) {
			c->n_ports = 0;
			c->ports_set = true;
		}
		for (;;) {
			size_t n = strcspn(p, ",");
			uint16_t port;

			if (vg_port_parse(p, n, &port) < 0 || c->n_ports >= SNI_MAX_PORTS) {
				snprintf(err, errlen,
					 "--sni-ports '%s': want ports 1-65535, comma separated, "
					 "at most %d",
					 value, SNI_MAX_PORTS);
				return -1;
			}
			c->ports[c->n_ports++] = port;
			if (!p[n])
				break;
			p += n + 1;
		}
		return 0;
	}
	if (strcmp(name, "allow-dest") == 0) {
		if (c->n_dest >= SNI_MAX_DEST || sni_dest_parse(value, &c->dest[c->n_dest]) < 0) {
			snprintf(err, errlen,
				 "--allow-dest '%s': want CIDR[:PORT][/tcp|/udp|/icmp], at most %d",
				 value, SNI_MAX_DEST);
			return -1;
		}
		c->n_dest++;
		return 0;
	}
	if (strcmp(name, "sni-timeout") == 0) {
		if (parse_duration(value, &ms) < 0 || ms < 100 || ms > 300000) {
			snprintf(err, errlen, "--sni-timeout '%s': want 100ms to 300s (e.g. 5s)",
				 value);
			return -1;
		}
		c->timeout_ms = (uint32_t)ms;
		return 0;
	}
	if (strcmp(name, "sni-grace") == 0) {
		if (parse_duration(value, &ms) < 0 || ms > 86400000ull) {
			snprintf(err, errlen, "--sni-grace '%s': want 0 to 24h (e.g. 5m)", value);
			return -1;
		}
		c->grace_ms = (uint32_t)ms;
		return 0;
	}
	if (strcmp(name, "dns-filter") == 0) {
		if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "1"))
			c->dns_filter = true;
		else if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "0"))
			c->dns_filter = false;
		else {
			snprintf(err, errlen, "--dns-filter '%s': want on or off", value);
			return -1;
		}
		return 0;
	}
	return 1;
}
