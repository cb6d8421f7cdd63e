/* SPDX-License-Identifier: MIT */
/*
 * tls.h - TLS ClientHello parser for the SNI filter (internal to forwarder/).
 *
 * tls_parse_client_hello() is handed everything the guest has sent so far on
 * a TCP flow (a prefix of the stream that may end anywhere) and says whether
 * it holds a whole ClientHello, needs more bytes, or can never be one. It is
 * called again from the start each time more bytes arrive: the parser keeps
 * no state between calls, so a flow needs nothing but its unread bytes.
 *
 * How: the stream is walked record by record (content type 22 only, record
 * version 3.x, fragment 1..16384 bytes); handshake fragments are gathered
 * into a caller-supplied scratch buffer, whose size is also the bound on the
 * handshake message (16 KiB by default), until the ClientHello's 24-bit
 * length is covered. Then the message is parsed with every length checked
 * against its enclosing one: session id, cipher suites, compression methods,
 * the extension block (which must end exactly with the message), and each
 * extension. The last record must end exactly with the message (nothing
 * else may share its records). Bytes after that record are not looked at.
 *
 * Extracted: server_name (host_name entry; lower-cased, one trailing dot
 * removed; must be a host name: letters, digits, hyphens, dots, labels
 * 1..63, at most 253 characters, not an IP literal, which is taken to be any
 * name whose last label is all digits), ALPN protocol names, and whether an
 * encrypted_client_hello extension (0xfe0d) is present. With ECH, the name
 * found is the OUTER (public) name; that is what the filter checks.
 * Duplicate extensions are rejected (RFC 8446 4.2). GREASE values are
 * ordinary unknown values here.
 *
 * Never reads outside [buf, buf+len) or writes outside the scratch buffer;
 * no allocation; O(len) per call.
 *
 * Return convention: enum tls_status (0 done, 1 need more, < 0 the error),
 * also for tls_hostname_check(); names are static strings.
 */
#ifndef VGATE_FORWARDER_TLS_H
#define VGATE_FORWARDER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_CH_MAX_DEFAULT 16384 /* bound on the handshake message */
#define TLS_RECORD_MAX	   16384 /* largest plaintext record fragment */
#define TLS_SNI_MAX	   253
#define TLS_ALPN_KEEP	   8  /* protocol names kept (more are counted) */
#define TLS_ALPN_NAME_MAX  32 /* longer names are kept truncated */

#define TLS_EXT_SERVER_NAME 0x0000
#define TLS_EXT_ALPN	    0x0010
#define TLS_EXT_ECH	    0xfe0d

/* Results of tls_parse_client_hello() (and of http_host_parse()) */
enum tls_status {
	TLS_DONE = 0,		/* a whole, valid ClientHello */
	TLS_NEED_MORE = 1,	/* valid so far; ch->need says how much at least */
	TLS_ERR_NOT_TLS = -1,	/* first record is not a handshake record */
	TLS_ERR_RECORD = -2,	/* bad record header (type, version, length) */
	TLS_ERR_NOT_HELLO = -3, /* first handshake message is not a ClientHello */
	TLS_ERR_TOO_BIG = -4,	/* handshake message larger than the bound */
	TLS_ERR_MALFORMED = -5, /* a length or field inside the ClientHello is wrong */
	TLS_ERR_DUP_EXT = -6,	/* the same extension twice */
	TLS_ERR_BAD_SNI = -7,	/* server_name is not a valid host name */
	TLS_ERR_SNI_IP = -8,	/* server_name is an IP literal */
};

/**
 * struct tls_client_hello - what the filter needs from a ClientHello
 * @need:	after TLS_NEED_MORE: total bytes (from the start of the stream)
 *		needed at least before another call can finish; 0 if unknown
 * @consumed:	after TLS_DONE: bytes of the records holding the ClientHello
 * @hs_len:	after TLS_DONE: length of the handshake message (with its header)
 * @n_records:	records read
 * @version:	legacy_version of the ClientHello
 * @has_sni:	a host_name server_name was present
 * @sni:	that name, lower case, NUL-terminated ("" without one)
 * @ech:	an encrypted_client_hello extension is present
 * @n_ext:	number of extensions
 * @n_alpn:	number of ALPN protocol names (may exceed TLS_ALPN_KEEP)
 * @alpn:	the first TLS_ALPN_KEEP names, NUL-terminated, bytes outside
 *		printable ASCII replaced by '?', truncated to TLS_ALPN_NAME_MAX
 */
struct tls_client_hello {
	size_t need;
	size_t consumed;
	size_t hs_len;
	unsigned int n_records;
	uint16_t version;
	bool has_sni;
	char sni[TLS_SNI_MAX + 1];
	bool ech;
	unsigned int n_ext;
	unsigned int n_alpn;
	char alpn[TLS_ALPN_KEEP][TLS_ALPN_NAME_MAX + 1];
};

/**
 * tls_parse_client_hello() - parse the ClientHello at the start of a stream
 * @buf:	the bytes received so far (may be incomplete)
 * @len:	their number
 * @scratch:	buffer for reassembling the handshake message
 * @scratch_len: its size; also the largest handshake message accepted
 *		(TLS_CH_MAX_DEFAULT is the usual choice; at least 64)
 * @ch:		result, always (re)initialised
 *
 * Return: TLS_DONE, TLS_NEED_MORE, or a negative enum tls_status
 */
int tls_parse_client_hello(const uint8_t *buf, size_t len, uint8_t *scratch, size_t scratch_len,
			   struct tls_client_hello *ch);

/**
 * tls_status_name() - short name of a status, for logs ("need_more", "bad_sni", ...)
 * @st:	enum tls_status value
 *
 * Return: a static string
 */
const char *tls_status_name(int st);

/**
 * tls_hostname_check() - validate and normalise a host name
 * @name:	bytes (not NUL-terminated; a NUL inside is invalid)
 * @len:	their number
 * @out:	lower-case copy without a trailing dot, NUL-terminated
 * @outlen:	its size (TLS_SNI_MAX + 1 is enough)
 *
 * Letters, digits, hyphens and dots; labels of 1..63 characters; at most 253
 * characters once one trailing dot is removed.
 *
 * Return: 0, TLS_ERR_BAD_SNI, or TLS_ERR_SNI_IP when the last label is all
 *	   digits (an IPv4 literal in any of its forms)
 */
int tls_hostname_check(const char *name, size_t len, char *out, size_t outlen);

#endif /* VGATE_FORWARDER_TLS_H */
