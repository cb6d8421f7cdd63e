/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_glisten.c - the pure parts of gvproxy's -listen endpoints
 * (cmd/glisten.h): the URI forms (unix, tcp, vsock with and without a CID,
 * Firecracker's hybrid vsock as a unix path; bad ports, hosts and schemes)
 * and the vpnkit reply (MTU fields, the known UUID's MAC, a random MAC made
 * local unicast, zero padding).
 */
#include <criterion/criterion.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "cmd/glisten.h"
#include "common/sockuri.h"

static int parse(const char *uri, bool vsock, struct sockaddr_storage *ss)
{
	socklen_t len;
	char err[256];

	return vg_sock_uri_parse(uri, vsock, ss, &len, err, sizeof(err));
}

Test(glisten, uri_forms)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)&ss;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;

	cr_assert_eq(parse("unix:///run/vm/v.sock_1024", true, &ss), 0); /* hybrid vsock */
	cr_assert_eq(ss.ss_family, AF_UNIX);
	cr_assert_str_eq(sun->sun_path, "/run/vm/v.sock_1024");
	cr_assert_eq(parse("tcp://127.0.0.1:8080", true, &ss), 0);
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_assert_eq(ntohs(sin->sin_port), 8080);
	cr_assert_eq(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_eq(parse("tcp://localhost:1", true, &ss), 0);
	cr_assert_eq(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_eq(parse("tcp://:9", true, &ss), 0);
	cr_assert_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	cr_assert_eq(parse("vsock://:1024", true, &ss), 0);
	cr_assert_eq(ss.ss_family, AF_VSOCK);
	cr_assert_eq(svm->svm_cid, VMADDR_CID_ANY);
	cr_assert_eq(svm->svm_port, 1024);
	cr_assert_eq(parse("vsock://2:1024", true, &ss), 0);
	cr_assert_eq(svm->svm_cid, 2);
}

Test(glisten, bad_uris)
{
	struct sockaddr_storage ss;
	static const char *const bad[] = {
	    "unix://",
	    "tcp://127.0.0.1",
	    "tcp://127.0.0.1:",
	    "tcp://127.0.0.1:0",
	    "tcp://127.0.0.1:65536",
	    "tcp://127.0.0.1:-1",
	    "tcp://host.example:80",
	    "tcp://1.2.3.4:80x",
	    "vsock://x:1024",
	    "vsock://2",
	    "vsock://-1:5",
	    "unixgram:///x",
	    "http://x",
	    "",
	    "/plain/path",
	};
	char err[256];
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], true, &ss), -1, "'%s' accepted", bad[i]);
	/* -listen-vpnkit has no vsock */
	cr_assert_eq(parse("vsock://:1024", false, &ss), -1);
	cr_assert_eq(vg_sock_uri_parse("nope", true, &ss, &len, err, sizeof(err)), -1);
	cr_assert(strstr(err, "'nope'"), "%s", err);
}

Test(glisten, vpnkit_reply)
{
	uint8_t cmd[VG_VPNKIT_CMD_LEN], out[VG_VPNKIT_REPLY_LEN];
	const uint8_t rnd[6] = {0xff, 1, 2, 3, 4, 5};
	static const uint8_t known_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};
	size_t i;

	memset(cmd, 0, sizeof(cmd));
	cmd[0] = 1;
	memcpy(cmd + 1, "c3d68012-0208-11ea-9fd7-f2189899ab08", 36);
	memset(out, 0xaa, sizeof(out));
	vg_vpnkit_reply(out, cmd, 1500, rnd);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1] | out[2] << 8, 1500, "MTU, 2-byte LE");
	cr_assert_eq(out[3] | out[4] << 8, 1514, "MTU + Ethernet header");
	cr_assert_eq(memcmp(out + 5, known_mac, 6), 0, "gvproxy's MAC for its UUID");
	for (i = 11; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0, "padding at %zu", i);

	memcpy(cmd + 1, "00000000-0000-0000-0000-000000000000", 36);
	vg_vpnkit_reply(out, cmd, 65520, rnd);
	cr_assert_eq(out[1] | out[2] << 8, 65520);
	cr_assert_eq(out[3] | out[4] << 8, 65534);
	cr_assert_eq(out[5], 0xfe, "local (bit 1) and unicast (bit 0 clear)");
	cr_assert_eq(memcmp(out + 6, rnd + 1, 5), 0);
}
