/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_gvproxy.c - gvproxy's flags on vgate's parser (cmd/gvproxy.h):
 * its spellings (-gatewayIP, -deviceIP, -mtu 0, -ec2-metadata-access,
 * -ssh-port -1), gvproxy mode by argv[0] or --gvproxy-defaults and its
 * defaults (ssh port, static lease, search list), the transports gvproxy
 * refuses to combine, the existing-path refusal, bad values, and gvproxy's
 * own -config YAML (cmd/gvconfig.c).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/config.h"
#include "cmd/gvproxy.h"
#include "cmd/options.h"
#include "common/netutil.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static enum vg_parse_result parse(struct vg_options *o, const char **argv, char *err, size_t errlen)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err[0] = '\0';
	return vg_options_parse(argc, (char **)argv, o, stdout, err, errlen);
}

Test(gvproxy, gvproxy_spellings)
{
	const char *argv[] = {"vgate",
			      "-tap-fd",
			      "3",
			      "-gatewayIP",
			      "10.9.0.1",
			      "-hostIP",
			      "10.9.0.254",
			      "-subnet",
			      "10.9.0.0/24",
			      "-mtu",
			      "0",
			      "-deviceIP",
			      "10.9.0.9",
			      "-ec2-metadata-access",
			      "-ssh-port",
			      "-1",
			      "--outbound-allow",
			      "127.0.0.0/8",
			      NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.ns.gateway_ip, ip("10.9.0.1"));
	cr_assert_eq(o.ns.host_ip, ip("10.9.0.254"));
	cr_assert_eq(o.device_ip, ip("10.9.0.9"));
	cr_assert_eq(o.ns.mtu, 1500, "-mtu 0 is gvproxy's default");
	cr_assert_eq(o.ssh_port, 0);
	cr_assert_eq(o.ns.n_dhcp_static, 0, "no static lease outside gvproxy mode");
	cr_assert(fwd_policy_allows(&o.policy, ip("169.254.169.254")), "metadata allowed");
	cr_assert_not(fwd_policy_allows(&o.policy, ip("169.254.1.1")), "link-local still denied");
	cr_assert(fwd_policy_allows(&o.policy, ip("127.0.0.1")));
	cr_assert_not(fwd_policy_allows(&o.policy, ip("10.1.1.1")),
		      "the built-in allow does not open the rest");
	vg_options_free(&o);
}

Test(gvproxy, metadata_denied_without_the_flag)
{
	const char *argv[] = {"vgate", "-tap-fd", "3", NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_not(fwd_policy_allows(&o.policy, ip("169.254.169.254")));
	vg_options_free(&o);
}

Test(gvproxy, mode_by_argv0_or_flag_takes_gvproxy_defaults)
{
	const char *as_gv[] = {"/usr/libexec/podman/gvproxy",
			       "-listen-qemu",
			       "unix:///x/q.sock",
			       "--dhcp-search",
			       "a.test",
			       NULL};
	const char *flag[] = {"vgate",	       "--gvproxy-defaults", "-tap-fd", "3", "-deviceIP",
			      "192.168.127.9", "--dhcp-search",	     "a.test",	NULL};
	const char *plain[] = {"vgate", "-listen-qemu", "unix:///x/q.sock", NULL};
	const char *off[] = {"gvproxy", "-tap-fd",	 "3",	   "-ssh-port",
			     "-1",	"--dhcp-search", "a.test", NULL};
	struct fwd_forward fw[FWD_FORWARD_MAX];
	struct vg_options o;
	uint8_t mac[6];
	char err[512];

	cr_assert_eq(vg_mac_parse(VG_GV_GUEST_MAC, mac), 0);
	cr_assert_eq(parse(&o, as_gv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert(o.gvproxy);
	cr_assert_eq(o.ssh_port, 2222);
	cr_assert_eq(vg_options_forwards(&o, fw), 1);
	cr_assert_eq(fw[0].host.ip, htonl(INADDR_LOOPBACK));
	cr_assert_eq(fw[0].host.port, 2222);
	cr_assert_eq(fw[0].guest_port, 22);
	cr_assert_eq(o.ns.n_dhcp_static, 1);
	cr_assert_eq(memcmp(o.ns.dhcp_static[0].mac, mac, 6), 0);
	cr_assert_eq(o.ns.dhcp_static[0].ip, ip("192.168.127.2"));
	cr_assert_eq(o.ns.gw_mac[5], 0xdd, "gvproxy's gateway MAC is vgate's default");
	vg_options_free(&o);

	cr_assert_eq(parse(&o, flag, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert(o.gvproxy);
	cr_assert_eq(o.ssh_port, 2222);
	cr_assert_eq(o.ns.dhcp_static[0].ip, ip("192.168.127.9"), "-deviceIP");
	vg_options_free(&o);

	cr_assert_eq(parse(&o, plain, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_not(o.gvproxy);
	cr_assert_eq(o.ssh_port, 0);
	cr_assert_eq(o.ns.n_dhcp_static, 0);
	vg_options_free(&o);

	cr_assert_eq(parse(&o, off, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.ssh_port, 0, "-ssh-port -1: none");
	cr_assert_eq(vg_options_forwards(&o, fw), 0);
	vg_options_free(&o);
}

Test(gvproxy, search_list_from_resolv_conf)
{
	char path[] = "/tmp/vg-gvresolv-XXXXXX";
	const char *argv[] = {"gvproxy", "-tap-fd", "3", "--resolv-conf", path, NULL};
	const char *given[] = {"gvproxy", "-tap-fd",	   "3",		"--resolv-conf",
			       path,	  "--dhcp-search", "mine.test", NULL};
	struct vg_options o;
	char err[512], out[16];
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs("nameserver 127.0.0.53\nsearch old.test\n# x\nsearch  corp.example\tlab.example\n",
	      f);
	fclose(f);
	cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_str_eq(o.ns.search, "corp.example lab.example", "the last search line");
	vg_options_free(&o);
	cr_assert_eq(parse(&o, given, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_str_eq(o.ns.search, "mine.test", "--dhcp-search wins");
	vg_options_free(&o);
	vg_resolv_search(path, out, sizeof(out));
	cr_assert_str_eq(out, "corp.example", "a list that does not fit is cut at a domain");
	vg_resolv_search("/nonexistent/resolv.conf", out, sizeof(out));
	cr_assert_str_eq(out, "");
	unlink(path);
}

Test(gvproxy, transports_gvproxy_cannot_combine)
{
	const char *qb[] = {"vgate",	    "-listen-qemu",	 "unix:///x/q",
			    "-listen-bess", "unixpacket:///x/b", NULL};
	const char *qv[] = {"vgate",	       "--listen-qemu", "unix:///x/q",
			    "--listen-vpnkit", "unix:///x/v",	NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, qb, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "cannot use qemu and bess protocol at the same time"), "%s",
			   err);
	cr_assert_eq(parse(&o, qv, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "vpnkit and qemu"), "%s", err);
}

Test(gvproxy, existing_socket_path_refused_in_gvproxy_mode_only)
{
	char path[] = "/tmp/vg-gvsock-XXXXXX", uri[64];
	const char *gv[] = {"gvproxy", "-listen-qemu", uri, NULL};
	const char *vg[] = {"vgate", "-listen-qemu", uri, NULL};
	struct vg_options o;
	char err[512];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_eq(parse(&o, gv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(vg_gvproxy_check_paths(&o, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, path), "%s", err);
	cr_assert_not_null(strstr(err, "already exists"), "%s", err);
	vg_options_free(&o);
	cr_assert_eq(parse(&o, vg, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(vg_gvproxy_check_paths(&o, err, sizeof(err)), 0, "vgate replaces sockets");
	vg_options_free(&o);
	unlink(path);
	cr_assert_eq(parse(&o, gv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(vg_gvproxy_check_paths(&o, err, sizeof(err)), 0);
	vg_options_free(&o);
}

Test(gvproxy, static_leases_and_gateway_mac)
{
	const char *ok[] = {"vgate",
			    "-tap-fd",
			    "3",
			    "--dhcp-static-lease",
			    "02:00:00:00:00:01=192.168.127.50",
			    "--gateway-mac",
			    "02:AA:bb:cc:dd:ee",
			    NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, ok, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.ns.n_dhcp_static, 1);
	cr_assert_eq(o.ns.dhcp_static[0].ip, ip("192.168.127.50"));
	cr_assert_eq(o.ns.dhcp_static[0].mac[5], 1);
	cr_assert_eq(o.ns.gw_mac[1], 0xaa);
	vg_options_free(&o);
}

Test(gvproxy, bad_values_are_one_line_errors)
{
	static const struct {
		const char *opt, *val, *want;
	} bad[] = {
	    {"--dhcp-static-lease", "02:00:00:00:00:01", "02:00:00:00:00:01"},
	    {"--dhcp-static-lease", "02:00:00:00:00:0x=192.168.127.5", "MAC=IP"},
	    {"--dhcp-static-lease", "03:00:00:00:00:01=192.168.127.5", "MAC=IP"},
	    {"--dhcp-static-lease", "02:00:00:00:00:01=10.0.0.5", "10.0.0.5"},
	    {"--dhcp-static-lease", "02:00:00:00:00:01=192.168.127.1", "192.168.127.1"},
	    {"--gateway-mac", "01:00:5e:00:00:01", "unicast"},
	    {"--gateway-mac", "5a:94:ef:e4:0c", "5a:94:ef:e4:0c"},
	    {"-deviceIP", "not-an-ip", "not-an-ip"},
	    {"-deviceIP", "10.0.0.2", "not in the subnet"},
	    {"-mtu", "-5", "-5"},
	    {"-ssh-port", "-2", "-2"},
	};
	struct vg_options o;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = {"gvproxy", "-tap-fd", "3", bad[i].opt, bad[i].val, NULL};

		cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_ERROR, "%s %s", bad[i].opt,
			     bad[i].val);
		cr_assert_not_null(strstr(err, bad[i].want), "'%s' names '%s'", err, bad[i].want);
		cr_assert_null(strchr(err, '\n'));
	}
}

Test(gvproxy, duplicate_static_lease)
{
	const char *argv[] = {"vgate",
			      "-tap-fd",
			      "3",
			      "--dhcp-static-lease",
			      "02:00:00:00:00:01=192.168.127.5",
			      "--dhcp-static-lease",
			      "02:00:00:00:00:01=192.168.127.6",
			      NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "twice"), "%s", err);
}

Test(gvproxy, mac_parse)
{
	uint8_t m[6];

	cr_assert_eq(vg_mac_parse("5a:94:EF:e4:0c:dd", m), 0);
	cr_assert_eq(m[0], 0x5a);
	cr_assert_eq(m[2], 0xef);
	cr_assert_eq(m[5], 0xdd);
	cr_assert_eq(vg_mac_parse("5a:94:ef:e4:0c:dd:", m), -1);
	cr_assert_eq(vg_mac_parse("5a:94:ef:e4:0c", m), -1);
	cr_assert_eq(vg_mac_parse("5a-94-ef-e4-0c-dd", m), -1);
	cr_assert_eq(vg_mac_parse("", m), -1);
	cr_assert_eq(vg_mac_parse("5a:94:ef:e4:0c:d", m), -1);
}

/* ---- gvproxy's -config YAML (cmd/gvconfig.c) ---- */

/* gvproxy's own example (cmd/gvproxy/config.yaml: its defaults as a file) */
static const char gv_example[] =
    "log-level: info\n"
    "stack:\n"
    "    mtu: 1500\n"
    "    subnet: 192.168.127.0/24\n"
    "    gatewayIP: 192.168.127.1\n"
    "    deviceIP: 192.168.127.2\n"
    "    hostIP: 192.168.127.254\n"
    "    gatewayMacAddress: 5a:94:ef:e4:0c:dd\n"
    "    dns:\n"
    "        - name: containers.internal.\n"
    "          records:\n"
    "            - name: gateway\n"
    "              ip: 192.168.127.1\n"
    "            - name: host\n"
    "              ip: 192.168.127.254\n"
    "        - name: example.test.\n"
    "          records:\n"
    "            - name: www\n"
    "              ip: 192.168.127.77\n"
    "    forwards:\n"
    "        127.0.0.1:2222: 192.168.127.2:22\n"
    "    nat:\n"
    "        192.168.127.254: 127.0.0.1\n"
    "    gatewayVirtualIPs:\n"
    "        - 192.168.127.254\n"
    "    dhcpStaticLeases:\n"
    "        192.168.127.2: 5a:94:ef:e4:0c:ee\n"
    "    vpnKitUUIDMacAddresses:\n"
    "        c3d68012-0208-11ea-9fd7-f2189899ab08: 5a:94:ef:e4:0c:ee\n";

static struct vg_cfg_args *gvconv(const char *yaml, bool gv, char *err, size_t errlen)
{
	err[0] = '\0';
	return vg_cfg_args_parse_as(yaml, strlen(yaml), "t.yaml", gv, err, errlen);
}

static bool has_arg(const struct vg_cfg_args *a, const char *want)
{
	int i;

	for (i = 1; i < a->argc; i++)
		if (!strcmp(a->argv[i], want))
			return true;
	return false;
}

Test(gvconfig, gvproxy_example_as_arguments)
{
	static const char *const want[] = {
	    "--log-level=info",
	    "--mtu=1500",
	    "--subnet=192.168.127.0/24",
	    "--gateway-ip=192.168.127.1",
	    "--device-ip=192.168.127.2",
	    "--host-ip=192.168.127.254",
	    "--gateway-mac=5a:94:ef:e4:0c:dd",
	    "--dns-record=gateway.containers.internal=192.168.127.1",
	    "--dns-record=host.containers.internal=192.168.127.254",
	    "--dns-record=www.example.test=192.168.127.77",
	    "--forward=tcp:127.0.0.1:2222:22",
	    "--dhcp-static-lease=5a:94:ef:e4:0c:ee=192.168.127.2",
	};
	char err[512];
	struct vg_cfg_args *a = gvconv(gv_example, true, err, sizeof(err));
	size_t i;

	cr_assert_not_null(a, "%s", err);
	cr_assert(a->gvproxy);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(has_arg(a, want[i]), "missing %s", want[i]);
	cr_assert_eq(a->argc, 1 + (int)(sizeof(want) / sizeof(want[0])), "host alias pushed once");
	vg_cfg_args_free(a);
	/* without gvproxy mode the same file is vgate's format: 'stack' is unknown */
	cr_assert_null(gvconv(gv_example, false, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "t.yaml:2: unknown key 'stack' (gvproxy's config format"),
			   "%s", err);
	/* in gvproxy mode a file without gvproxy's keys stays vgate's format */
	a = gvconv("mtu: 9000\n", true, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_not(a->gvproxy);
	cr_assert_str_eq(a->argv[1], "--mtu=9000");
	vg_cfg_args_free(a);
}

Test(gvconfig, other_keys)
{
	char err[512];
	struct vg_cfg_args *a = gvconv("listen: [unix:///r/api.sock]\n"
				       "log-level: Warning\n"
				       "interfaces:\n  qemu: unix:///r/q.sock\n"
				       "pid-file: /r/gv.pid\n"
				       "log-file: /r/gv.log\n"
				       "ec2-metadata-access: true\n"
				       "stack:\n"
				       "  dnsSearchDomains: [a.test, b.test]\n"
				       "  blockAllOutbound: true\n"
				       "  ec2MetadataAccess: false\n"
				       "  capture-file: /r/c.pcap\n"
				       "  debug: false\n"
				       "  mtu:\n",
				       true, err, sizeof(err));

	cr_assert_not_null(a, "%s", err);
	cr_assert(has_arg(a, "--listen=unix:///r/api.sock"));
	cr_assert(has_arg(a, "--log-level=warn"));
	cr_assert(has_arg(a, "--listen-qemu=unix:///r/q.sock"));
	cr_assert(has_arg(a, "--pid-file=/r/gv.pid"));
	cr_assert(has_arg(a, "--log-file=/r/gv.log"));
	cr_assert(has_arg(a, "--ec2-metadata-access"));
	cr_assert(has_arg(a, "--dhcp-search=a.test b.test"));
	cr_assert(has_arg(a, "--outbound-deny=0.0.0.0/0"));
	cr_assert(has_arg(a, "--outbound-deny=::/0"));
	cr_assert(has_arg(a, "--pcap=/r/c.pcap"));
	cr_assert_eq(a->argc, 11, "false switches and null values add nothing");
	vg_cfg_args_free(a);
}

Test(gvconfig, errors_name_file_line_and_key_path)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
	    {"stack:\n  foo: 1\n", "t.yaml:2: unknown key 'stack.foo' in a gvproxy config"},
	    {"stack: {}\nbogus: 1\n", "t.yaml:2: unknown key 'bogus'"},
	    {"stack:\n  dns:\n    - name: x.\n      records:\n        - name: a\n"
	     "          regexp: '.*'\n",
	     "t.yaml:6: stack.dns[0].records[0].regexp: not supported"},
	    {"stack:\n  dns:\n    - name: x.\n      defaultIP: 1.2.3.4\n",
	     "t.yaml:4: stack.dns[0].defaultIP: not supported"},
	    {"stack:\n  dns:\n    - name: x.\n      records:\n        - name: a\n",
	     "stack.dns[0].records[0]: a record needs an ip"},
	    {"stack:\n  gatewayIPv6: fd00::1\n", "t.yaml:2: stack.gatewayIPv6: not supported"},
	    {"stack:\n  nat:\n    192.168.127.254: 10.0.0.1\n",
	     "stack.nat: only ADDRESS: 127.0.0.1"},
	    {"stack:\n  hostIP: 192.168.127.250\n  nat:\n    192.168.127.254: 127.0.0.1\n",
	     "t.yaml:4: stack.nat: differs from the host alias"},
	    {"stack:\n  forwards:\n    unix:///x: 192.168.127.2:22\n",
	     "stack.forwards: the host side must be ADDRESS:PORT"},
	    {"stack:\n  mtu: [1]\n", "t.yaml:2: stack.mtu: expected a value"},
	    {"stack:\n  blockAllOutbound: maybe\n",
	     "stack.blockAllOutbound: expected true or false"},
	    {"stack: {}\nlog-level: loud\n", "t.yaml:2: log-level: expected trace"},
	    {"forwards:\n  - socket: /s\n    dest: /d\n", "forwards[0]: needs socket, dest, user"},
	    {"interfaces:\n  qemu: a\n  qemu: b\n", "t.yaml:3: interfaces.qemu: duplicate key"},
	    {"stack: [1]\n", "stack: expected a mapping"},
	};
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_null(gvconv(bad[i].yaml, true, err, sizeof(err)), "%s", bad[i].yaml);
		cr_assert_not_null(strstr(err, bad[i].want), "'%s' wants '%s'", err, bad[i].want);
		cr_assert_null(strchr(err, '\n'));
	}
}

/* write @text to a temporary file named into @path (a mkstemp template) */
static void write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

Test(gvconfig, gvproxy_config_through_the_parser_replaces_the_defaults)
{
	char path[] = "/tmp/vg-gvcfg-XXXXXX", err[512];
	const char *argv[] = {"gvproxy", "-config", path, "-listen-qemu", "unix:///x/q.sock", NULL};
	struct fwd_forward fw[FWD_FORWARD_MAX];
	struct vg_options o;

	write_tmp(path, gv_example);
	cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert(o.gv_config);
	cr_assert_eq(o.ssh_port, 0, "no -ssh-port default with gvproxy's config");
	cr_assert_eq(o.ns.n_dhcp_static, 1, "the file's lease only");
	cr_assert_eq(o.ns.dhcp_static[0].ip, ip("192.168.127.2"));
	cr_assert_eq(vg_options_forwards(&o, fw), 1, "the file's forward");
	cr_assert_eq(fw[0].host.port, 2222);
	cr_assert_eq(o.n_dns_record, 3);
	cr_assert_eq(o.ns.host_ip, ip("192.168.127.254"));
	vg_options_free(&o);
	unlink(path);
}

Test(gvconfig, bad_value_from_the_file_names_its_line)
{
	char path[] = "/tmp/vg-gvcfg-XXXXXX", err[512];
	const char *argv[] = {"gvproxy", "-config", path, "-tap-fd", "3", NULL};
	struct vg_options o;

	write_tmp(path, "stack:\n  subnet: 192.168.127.0/24\n  mtu: 70000\n");
	cr_assert_eq(parse(&o, argv, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, ":3: invalid --mtu '70000'"), "%s", err);
	unlink(path);
}
