/* SPDX-License-Identifier: MIT */
/*
 * sshfwd.c - SSH socket forwards (see sshfwd.h).
 *
 * One struct fwd_one per -forward-sock: its listener, its session and the
 * session's pipe to guest:22 (cmd/flowpipe.h), and a fixed table of
 * clients. The session is a small state machine driven from the loop:
 *
 *   S_WAIT --timer--> S_CONNECT --ssh_connect() OK, host key pinned-->
 *   S_AUTH --ssh_userauth_publickey() OK--> S_UP
 *
 * and any failure (or a drop once up) goes back to S_WAIT with the next
 * back-off. libssh is non-blocking: its socket (libssh's end of the pipe)
 * is on vgate's loop for EPOLLIN, and EPOLLOUT while libssh has output it
 * could not write (SSH_WRITE_PENDING); each event re-calls the pending
 * libssh call, or once up runs ssh_event_dopoll(.., 0), which reads and
 * writes what the socket allows and files channel data into each
 * channel's buffer, and then pumps every client.
 *
 * A client: its channel is opened (direct-streamlocal, re-called while
 * SSH_AGAIN), then bytes move through two fixed buffers. Channel ->
 * client: ssh_channel_read_nonblocking() into the out buffer only when it
 * is empty, written to the client, EPOLLOUT while it does not all go.
 * Client -> channel: read into the in buffer only when it is empty,
 * written to the channel no more than ssh_channel_window_size() and only
 * while libssh's output is flushed; EPOLLIN on the client only while the
 * in buffer is empty. EOF either way is a half-close (ssh_channel_send_eof
 * / shutdown(SHUT_WR)); the client is closed once both sides are done, or
 * at once on an error or when the channel is closed.
 *
 * Ownership: libssh owns its end of the pipe once ssh_connect() was called
 * (it closes it on errors, in ssh_disconnect() and ssh_free()); what is on
 * vgate's loop is a dup() of it, vgate's own, so libssh closing its fd
 * never leaves a stale number registered. vgate owns the listener, the
 * pipe, the client fds and the timer. Channels are freed before their
 * session.
 */
#include "sshfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/flowpipe.h"
#include "cmd/sshlib.h"
#include "cmd/unixsock.h"
#include "common/ratelimit.h"

#define SSHFWD_BACKLOG	128
#define SSHFWD_ACCEPTS	16     /* accepts per listener event */
#define SSHFWD_POLLS	16     /* ssh_event_dopoll() rounds per event */
#define SSHFWD_PUMP	16     /* buffer fills per client and direction per pump */
#define SSHFWD_LOG_MS	10000u /* "still waiting for sshd" at most this often */
#define SSHFWD_PATH_MAX 108    /* sun_path */
#define SSHFWD_STR_MAX	256    /* GUESTPATH, user */
#define SSHFWD_HASH_MAX 64     /* SHA-256 is 32 bytes */
/* TCP keepalive on the connection to guest:22: a guest gone without a
 * word (killed, rebooted) is noticed while no client uses the session */
#define SSHFWD_KEEPALIVE_MS 30000u

enum fwd_state { S_WAIT, S_CONNECT, S_AUTH, S_UP };

struct fwd_one;

struct fwd_client {
	struct fwd_one *fw;
	int fd;		 /* the accepted connection */
	struct vg_io io; /* its registration; io.fd -1 once taken off (hup) */
	ssh_channel ch;	 /* NULL while the session is down */
	bool open;	 /* the channel is open */
	bool hup;	 /* the client closed both ways: only its unread bytes remain */
	bool cl_eof;	 /* the client sent EOF, passed on with ssh_channel_send_eof() */
	bool ch_eof;	 /* the channel's EOF, passed on with shutdown(SHUT_WR) */
	size_t in_off, in_len, out_off, out_len;
	uint8_t in[VG_SSHFWD_BUF];  /* client -> channel */
	uint8_t out[VG_SSHFWD_BUF]; /* channel -> client */
};

struct fwd_one {
	struct vg_sshfwd *s;
	char sock[SSHFWD_PATH_MAX];
	char dest[SSHFWD_STR_MAX];
	char user[SSHFWD_STR_MAX];
	ssh_key key;
	struct vg_io lio; /* the HOSTPATH listener */
	enum fwd_state st;
	ssh_session sess;
	ssh_event ev;		  /* with the session in it, once up */
	struct vg_flowpipe *pipe; /* the session's connection to guest:22 */
	struct vg_io sio;	  /* a dup of libssh's end of the pipe, ours */
	struct vg_timer timer;	  /* S_WAIT: next try; S_CONNECT/S_AUTH: set-up deadlines */
	uint64_t setup_end;	  /* S_CONNECT/S_AUTH: loop time the try is abandoned */
	uint64_t backoff_ms;
	uint64_t tries; /* failed tries since the last session up */
	struct vg_hitlog waitlog;
	size_t nclients;
	struct fwd_client *cl[VG_SSHFWD_CLIENTS];
};

struct vg_sshfwd {
	struct vg_loop *loop;
	struct ns *ns;
	const struct vg_log *log;
	const struct vg_ssh_fns *f;
	uint32_t gateway_ip, guest_ip;
	unsigned char pin[SSHFWD_HASH_MAX]; /* the host key's SHA-256 (trust on first use) */
	size_t pin_len;
	struct vg_hitlog refuselog;
	struct vg_sshfwd_stats st;
	size_t n;
	struct fwd_one fw[VG_SSHFWD_MAX];
};

static void session_drive(struct fwd_one *fw);

/* HOSTPATH as a path: gvproxy takes a path or a unix:// URL */
static const char *sock_path(const char *sock)
{
	return strncmp(sock, "unix://", 7) ? sock : sock + 7;
}

int vg_sshfwd_check(const struct vg_sshfwd_spec *spec, size_t n, char *err, size_t errlen)
{
	const struct vg_ssh_fns *f;
	size_t i;

	if (n > VG_SSHFWD_MAX) {
		snprintf(err, errlen, "too many -forward-sock (max %d)", VG_SSHFWD_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *p = sock_path(spec[i].sock);

		if (strstr(spec[i].sock, "://") && strncmp(spec[i].sock, "unix://", 7)) {
			snprintf(err, errlen, "invalid -forward-sock '%s' (a path or unix:///PATH)",
				 spec[i].sock);
			return -1;
		}
		if (p[0] != '/' || strlen(p) >= SSHFWD_PATH_MAX) {
			snprintf(err, errlen,
				 "invalid -forward-sock '%s' (an absolute path under %d bytes)",
				 spec[i].sock, SSHFWD_PATH_MAX);
			return -1;
		}
		if (spec[i].dest[0] != '/' || strlen(spec[i].dest) >= SSHFWD_STR_MAX) {
			snprintf(err, errlen,
				 "invalid -forward-dest '%s' (an absolute path under %d bytes)",
				 spec[i].dest, SSHFWD_STR_MAX);
			return -1;
		}
		if (!spec[i].user[0] || strlen(spec[i].user) >= SSHFWD_STR_MAX) {
			snprintf(err, errlen, "invalid -forward-user '%s'", spec[i].user);
			return -1;
		}
	}
	if (!n)
		return 0;
	if (vg_sshlib_load(err, errlen) < 0)
		return -1;
	f = vg_sshlib();
	for (i = 0; i < n; i++) {
		ssh_key key = NULL;

		if (f->pki_import_privkey_file(spec[i].identity, NULL, NULL, NULL, &key) !=
		    SSH_OK) {
			snprintf(err, errlen,
				 "cannot load -forward-identity '%s' (missing, unreadable, not a "
				 "private key, or protected by a passphrase)",
				 spec[i].identity);
			return -1;
		}
		f->key_free(key);
	}
	return 0;
}

/* ---- clients ---- */

static void client_free(struct fwd_client *c)
{
	struct fwd_one *fw = c->fw;
	struct vg_sshfwd *s = fw->s;
	size_t i;

	if (c->ch) {
		/* sends EOF and CLOSE if the session is alive; libssh frees
		 * the channel once the peer's CLOSE is in, or with the session */
		s->f->channel_free(c->ch);
		c->ch = NULL;
	}
	vg_io_del(s->loop, &c->io);
	close(c->fd);
	for (i = 0; i < VG_SSHFWD_CLIENTS; i++) {
		if (fw->cl[i] == c) {
			fw->cl[i] = NULL;
			break;
		}
	}
	fw->nclients--;
	s->st.clients_active--;
	free(c);
}

static void client_events(struct fwd_client *c)
{
	uint32_t ev = 0;

	if (c->io.fd < 0)
		return; /* hup: driven by the session's events only */
	if (c->open && !c->cl_eof && c->in_len == 0)
		ev |= EPOLLIN;
	if (c->out_len > 0)
		ev |= EPOLLOUT;
	(void)vg_io_mod(c->fw->s->loop, &c->io, ev);
}

/**
 * client_to_channel() - move client bytes into the channel within the
 * peer's window, while libssh's output is flushed
 * @c:	client
 *
 * Return: 0, or -1 when the client is to be closed
 */
static int client_to_channel(struct fwd_client *c)
{
	struct vg_sshfwd *s = c->fw->s;
	const struct vg_ssh_fns *f = s->f;
	int i;

	for (i = 0; i < SSHFWD_PUMP; i++) {
		if (c->in_len > 0) {
			uint32_t win = f->channel_window_size(c->ch);
			size_t n = c->in_len < win ? c->in_len : win;
			int w;

			if (!n || (f->get_poll_flags(c->fw->sess) & SSH_WRITE_PENDING))
				return 0; /* the next session event pumps again */
			w = f->channel_write(c->ch, c->in + c->in_off, (uint32_t)n);
			if (w < 0)
				return -1;
			s->st.bytes_to_guest += (uint64_t)w;
			c->in_off += (size_t)w;
			c->in_len -= (size_t)w;
			if (c->in_len > 0)
				return 0;
			c->in_off = 0;
		}
		if (c->cl_eof)
			return 0;
		ssize_t r = read(c->fd, c->in, sizeof(c->in));

		if (r > 0) {
			c->in_len = (size_t)r;
			continue;
		}
		if (r == 0) {
			c->cl_eof = true;
			if (f->channel_send_eof(c->ch) == SSH_ERROR)
				return -1;
			return 0;
		}
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	return 0;
}

/**
 * channel_to_client() - move channel bytes to the client, refilling the
 * out buffer from the channel only when it is empty
 * @c:	client
 *
 * Return: 0, or -1 when the client is to be closed
 */
static int channel_to_client(struct fwd_client *c)
{
	struct vg_sshfwd *s = c->fw->s;
	int i;

	for (i = 0; i < SSHFWD_PUMP; i++) {
		if (c->out_len > 0) {
			ssize_t w = write(c->fd, c->out + c->out_off, c->out_len);

			if (w < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			s->st.bytes_from_guest += (uint64_t)w;
			c->out_off += (size_t)w;
			c->out_len -= (size_t)w;
			if (c->out_len > 0)
				return 0;
			c->out_off = 0;
		}
		if (c->ch_eof)
			return 0;
		int r = s->f->channel_read_nonblocking(c->ch, c->out, sizeof(c->out), 0);

		if (r > 0) {
			c->out_len = (size_t)r;
			continue;
		}
		if (r == SSH_EOF) {
			c->ch_eof = true;
			(void)shutdown(c->fd, SHUT_WR);
			return 0;
		}
		return r == 0 ? 0 : -1;
	}
	return 0;
}

/**
 * client_pump() - open the channel, then move bytes both ways; closes
 * (frees) the client when it is done or failed
 * @c:	client
 */
static void client_pump(struct fwd_client *c)
{
	struct fwd_one *fw = c->fw;
	struct vg_sshfwd *s = fw->s;
	const struct vg_ssh_fns *f = s->f;

	if (fw->st != S_UP)
		return; /* waits for the next session */
	if (!c->ch) {
		c->ch = f->channel_new(fw->sess);
		if (!c->ch) {
			s->st.channel_failures++;
			client_free(c);
			return;
		}
	}
	if (!c->open) {
		int rc = f->channel_open_forward_unix(c->ch, fw->dest, "127.0.0.1", 0);

		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			s->st.channel_failures++;
			vg_log(s->log, VG_LOG_WARN,
			       "-forward-sock %s: the guest refused a channel to %s: %s", fw->sock,
			       fw->dest, f->get_error(fw->sess));
			client_free(c);
			return;
		}
		c->open = true;
		vg_log(s->log, VG_LOG_DEBUG, "-forward-sock %s: channel to %s open", fw->sock,
		       fw->dest);
	}
	if (c->hup) {
		/* nobody reads any more: pass on what the client sent, then close */
		if (client_to_channel(c) < 0 || (c->cl_eof && c->in_len == 0) ||
		    f->channel_is_closed(c->ch))
			client_free(c);
		return;
	}
	if (channel_to_client(c) < 0 || client_to_channel(c) < 0 ||
	    (c->cl_eof && c->ch_eof && c->out_len == 0) ||
	    (c->out_len == 0 && f->channel_is_closed(c->ch))) {
		client_free(c);
		return;
	}
	client_events(c);
}

static void client_io(void *arg, uint32_t events)
{
	struct fwd_client *c = arg;
	struct fwd_one *fw = c->fw;

	if ((events & EPOLLERR) || ((events & EPOLLHUP) && !c->open)) {
		client_free(c); /* gone before its channel opened: nothing to carry */
		return;
	}
	if (events & EPOLLHUP) {
		/* reported whatever the interest set: stop polling, or it spins
		 * while the client's last bytes wait for the channel's window */
		c->hup = true;
		vg_io_del(fw->s->loop, &c->io);
	}
	client_pump(c); /* may free c */
	/* a write may have queued output libssh could not send yet */
	if (fw->st == S_UP)
		session_drive(fw);
}

static void clients_pump(struct fwd_one *fw)
{
	size_t i;

	for (i = 0; i < VG_SSHFWD_CLIENTS && fw->st == S_UP; i++)
		if (fw->cl[i])
			client_pump(fw->cl[i]);
}

/**
 * clients_close() - the session is going: close its clients, except with
 * @keep those whose channel was not open yet (nothing was read from them):
 * they wait for the next session, as in the listen backlog
 * @fw:		forward
 * @keep:	keep the waiting ones
 */
static void clients_close(struct fwd_one *fw, bool keep)
{
	size_t i;

	for (i = 0; i < VG_SSHFWD_CLIENTS; i++) {
		struct fwd_client *c = fw->cl[i];

		if (!c)
			continue;
		if (keep && !c->open) {
			if (c->ch)
				fw->s->f->channel_free(c->ch);
			c->ch = NULL;
			continue;
		}
		client_free(c);
	}
}

static void listener_io(void *arg, uint32_t events)
{
	struct fwd_one *fw = arg;
	struct vg_sshfwd *s = fw->s;
	int i;

	(void)events;
	for (i = 0; i < SSHFWD_ACCEPTS && fw->st == S_UP; i++) {
		struct fwd_client *c;
		size_t slot;
		int fd = accept4(fw->lio.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break; /* EAGAIN; out of fds: the client stays in the backlog */
		if (fw->nclients >= VG_SSHFWD_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			uint64_t hits;

			s->st.clients_refused++;
			if (vg_hitlog_hit(&s->refuselog, SSHFWD_LOG_MS, vg_loop_now(s->loop),
					  &hits))
				vg_log(s->log, VG_LOG_WARN,
				       "-forward-sock %s: %d connections at once: refused (%llu "
				       "times)",
				       fw->sock, VG_SSHFWD_CLIENTS, (unsigned long long)hits);
			close(fd);
			continue;
		}
		for (slot = 0; fw->cl[slot]; slot++)
			;
		c->fw = fw;
		c->fd = fd;
		c->io.fd = -1;
		if (vg_io_add(s->loop, &c->io, fd, 0, client_io, c) < 0) {
			free(c);
			close(fd);
			s->st.clients_refused++;
			continue;
		}
		fw->cl[slot] = c;
		fw->nclients++;
		s->st.clients_accepted++;
		s->st.clients_active++;
		vg_log(s->log, VG_LOG_DEBUG, "-forward-sock %s: connection accepted (%zu open)",
		       fw->sock, fw->nclients);
		client_pump(c); /* the channel-open request */
	}
	if (fw->st == S_UP)
		session_drive(fw); /* pumps the new clients: their channel-open requests */
}

/* ---- the session ---- */

/**
 * session_close() - tear the session down: its clients (see
 * clients_close()), its event, libssh's session, the pipe
 * @fw:		forward
 * @keep:	keep the clients still waiting for a channel
 */
static void session_close(struct fwd_one *fw, bool keep)
{
	const struct vg_ssh_fns *f = fw->s->f;

	clients_close(fw, keep);
	if (fw->lio.fd >= 0)
		(void)vg_io_mod(fw->s->loop, &fw->lio, 0); /* no accepts until up again */
	vg_timer_stop(fw->s->loop, &fw->timer);
	if (fw->sio.fd >= 0) {
		int fd = fw->sio.fd;

		vg_io_del(fw->s->loop, &fw->sio);
		close(fd); /* our dup; libssh closes its own */
	}
	if (fw->ev) {
		f->event_remove_session(fw->ev, fw->sess);
		f->event_free(fw->ev);
		fw->ev = NULL;
	}
	if (fw->sess) {
		f->disconnect(fw->sess);
		f->free_session(fw->sess);
		fw->sess = NULL;
	}
	vg_flowpipe_free(fw->pipe);
	fw->pipe = NULL;
	if (fw->st == S_UP)
		fw->s->st.sessions_up--;
	fw->st = S_WAIT;
}

/**
 * session_fail() - tear the session down and try again after the back-off
 * @fw:		forward
 * @why:	for the log
 */
static void session_fail(struct fwd_one *fw, const char *why)
{
	struct vg_sshfwd *s = fw->s;
	uint64_t hits;
	bool was_up = fw->st == S_UP;
	char reason[160];

	/* @why may be libssh's error text, freed with the session */
	snprintf(reason, sizeof(reason), "%s", why && *why ? why : "unknown error");
	why = reason;
	session_close(fw, true);
	if (was_up) {
		s->st.sessions_lost++;
		fw->backoff_ms = VG_SSHFWD_RETRY_MIN_MS;
		vg_log(s->log, VG_LOG_WARN, "-forward-sock %s: SSH session lost (%s); reconnecting",
		       fw->sock, why);
	} else {
		s->st.session_failures++;
		fw->tries++;
		if (vg_hitlog_hit(&fw->waitlog, SSHFWD_LOG_MS, vg_loop_now(s->loop), &hits))
			vg_log(s->log, VG_LOG_INFO,
			       "-forward-sock %s: waiting for the guest's sshd (%s); try %llu, "
			       "next in %llu ms",
			       fw->sock, why, (unsigned long long)fw->tries,
			       (unsigned long long)fw->backoff_ms);
		else
			vg_log(s->log, VG_LOG_DEBUG, "-forward-sock %s: try %llu failed: %s",
			       fw->sock, (unsigned long long)fw->tries, why);
	}
	if (vg_timer_start(s->loop, &fw->timer, fw->backoff_ms) < 0)
		vg_log(s->log, VG_LOG_ERROR, "-forward-sock %s: no timer left: not retrying",
		       fw->sock);
	fw->backoff_ms *= 2;
	if (fw->backoff_ms > VG_SSHFWD_RETRY_MAX_MS)
		fw->backoff_ms = VG_SSHFWD_RETRY_MAX_MS;
}

static void session_events(struct fwd_one *fw)
{
	uint32_t ev = EPOLLIN;

	if (fw->sess && (fw->s->f->get_poll_flags(fw->sess) & SSH_WRITE_PENDING))
		ev |= EPOLLOUT;
	(void)vg_io_mod(fw->s->loop, &fw->sio, ev);
}

/**
 * hostkey_check() - trust on first use: pin the first host key seen, refuse
 * any other one later
 * @fw:	forward (session connected)
 *
 * Return: 0, or -1 (logged)
 */
static int hostkey_check(struct fwd_one *fw)
{
	struct vg_sshfwd *s = fw->s;
	const struct vg_ssh_fns *f = s->f;
	unsigned char *hash = NULL;
	ssh_key key = NULL;
	size_t len = 0;
	char *fp;
	int rc = -1;

	if (f->get_server_publickey(fw->sess, &key) != SSH_OK ||
	    f->get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0 || len == 0 ||
	    len > sizeof(s->pin)) {
		vg_log(s->log, VG_LOG_WARN, "-forward-sock %s: cannot read the guest's host key",
		       fw->sock);
		goto out;
	}
	fp = f->get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
	if (!s->pin_len) {
		memcpy(s->pin, hash, len);
		s->pin_len = len;
		vg_log(s->log, VG_LOG_INFO,
		       "-forward-sock %s: guest host key %s accepted on first use and pinned",
		       fw->sock, fp ? fp : "?");
		rc = 0;
	} else if (len == s->pin_len && !memcmp(hash, s->pin, len)) {
		rc = 0;
	} else {
		s->st.hostkey_refused++;
		vg_log(s->log, VG_LOG_WARN,
		       "-forward-sock %s: guest host key %s is not the one pinned: refused",
		       fw->sock, fp ? fp : "?");
	}
	if (fp)
		f->string_free_char(fp);
out:
	if (hash)
		f->clean_pubkey_hash(&hash);
	if (key)
		f->key_free(key);
	return rc;
}

/**
 * session_drive() - advance the session on any of its events: re-call the
 * pending set-up call, or once up let libssh read and write, then pump the
 * clients; a failure goes back to S_WAIT
 * @fw:	forward
 */
static void session_drive(struct fwd_one *fw)
{
	struct vg_sshfwd *s = fw->s;
	const struct vg_ssh_fns *f = s->f;
	int rc, i;

	if (fw->st == S_CONNECT) {
		rc = f->connect(fw->sess);
		if (rc == SSH_AGAIN)
			goto events;
		if (rc != SSH_OK) {
			session_fail(fw, f->get_error(fw->sess));
			return;
		}
		if (hostkey_check(fw) < 0) {
			session_fail(fw, "host key refused");
			return;
		}
		fw->st = S_AUTH;
	}
	if (fw->st == S_AUTH) {
		rc = f->userauth_publickey(fw->sess, NULL, fw->key);
		if (rc == SSH_AUTH_AGAIN)
			goto events;
		if (rc != SSH_AUTH_SUCCESS) {
			char why[SSHFWD_STR_MAX + 64];

			snprintf(why, sizeof(why), "public key authentication as '%s' refused",
				 fw->user);
			session_fail(fw, rc == SSH_AUTH_ERROR ? f->get_error(fw->sess) : why);
			return;
		}
		fw->ev = f->event_new();
		if (!fw->ev || f->event_add_session(fw->ev, fw->sess) != SSH_OK) {
			session_fail(fw, "cannot poll the session");
			return;
		}
		vg_timer_stop(s->loop, &fw->timer);
		fw->st = S_UP;
		s->st.sessions_up++;
		vg_log(s->log, VG_LOG_INFO,
		       "-forward-sock %s: SSH session up (%s@guest:22 -> %s)%s", fw->sock, fw->user,
		       fw->dest, fw->tries ? " after waiting for sshd" : "");
		fw->tries = 0;
		fw->waitlog.last_ms = 0;
		fw->backoff_ms = VG_SSHFWD_RETRY_MIN_MS;
		(void)vg_io_mod(s->loop, &fw->lio, EPOLLIN);
	}
	if (fw->st == S_UP) {
		for (i = 0; i < SSHFWD_POLLS; i++) {
			rc = f->event_dopoll(fw->ev, 0);
			if (rc == SSH_ERROR)
				break;
			if (rc != SSH_OK)
				break; /* SSH_AGAIN: nothing more now */
		}
		if (rc == SSH_ERROR || !f->is_connected(fw->sess) || f->get_fd(fw->sess) < 0) {
			session_fail(fw, "the connection to guest:22 ended");
			return;
		}
		clients_pump(fw);
		if (fw->st != S_UP)
			return;
	}
events:
	session_events(fw);
}

static void session_io(void *arg, uint32_t events)
{
	(void)events;
	session_drive(arg);
}

/**
 * session_start() - a new try: a pipe to guest:22, a libssh session on it,
 * the first ssh_connect() call
 * @fw:	forward (S_WAIT)
 */
static void session_start(struct fwd_one *fw)
{
	struct vg_sshfwd *s = fw->s;
	const struct vg_ssh_fns *f = s->f;
	struct ns_addr src = ns_addr_v4(s->gateway_ip, 0), dst = ns_addr_v4(s->guest_ip, 22);
	char err[128], host[INET_ADDRSTRLEN];
	bool no = false;
	int fd = -1, dup_fd, rc;

	s->st.session_attempts++;
	(void)ns_lease_latest(s->ns, &dst.ip);
	inet_ntop(AF_INET, &dst.ip, host, sizeof(host));
	fw->pipe = vg_flowpipe_open(s->loop, s->ns, &src, &dst, SSHFWD_KEEPALIVE_MS, &fd, err,
				    sizeof(err));
	if (!fw->pipe) {
		session_fail(fw, err);
		return;
	}
	fw->setup_end = vg_loop_now(s->loop) + VG_SSHFWD_SETUP_MS;
	if (vg_timer_start(s->loop, &fw->timer, VG_SSHFWD_CONNECT_MS) < 0) {
		close(fd);
		session_fail(fw, "no timer left");
		return;
	}
	/* the loop watches a dup of libssh's fd */
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	rc = dup_fd < 0 ? -errno : vg_io_add(s->loop, &fw->sio, dup_fd, EPOLLIN, session_io, fw);
	if (rc < 0) {
		if (dup_fd >= 0)
			close(dup_fd);
		close(fd);
		session_fail(fw, strerror(-rc));
		return;
	}
	fw->sess = f->new_session();
	if (!fw->sess) {
		close(fd);
		session_fail(fw, "cannot make an SSH session");
		return;
	}
	f->set_blocking(fw->sess, 0);
	if (f->options_set(fw->sess, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    f->options_set(fw->sess, SSH_OPTIONS_HOST, host) < 0 ||
	    f->options_set(fw->sess, SSH_OPTIONS_USER, fw->user) < 0 ||
	    f->options_set(fw->sess, SSH_OPTIONS_FD, &fd) < 0) {
		close(fd);
		session_fail(fw, "cannot set the SSH session's options");
		return;
	}
	/* from here on libssh owns fd: ssh_connect() takes it */
	fw->st = S_CONNECT;
	session_drive(fw);
}

/**
 * fw_timer() - S_WAIT: the next try; during a set-up: the SYN deadline
 * (VG_SSHFWD_CONNECT_MS), then the whole set-up's (VG_SSHFWD_SETUP_MS)
 * @arg:	forward
 */
static void fw_timer(void *arg)
{
	struct fwd_one *fw = arg;
	uint64_t now = vg_loop_now(fw->s->loop);

	if (fw->st == S_WAIT) {
		session_start(fw);
		return;
	}
	if (fw->st == S_UP)
		return;
	if (!vg_flowpipe_connected(fw->pipe)) {
		session_fail(fw, "guest:22 does not answer");
		return;
	}
	if (now >= fw->setup_end ||
	    vg_timer_start(fw->s->loop, &fw->timer, fw->setup_end - now) < 0)
		session_fail(fw, "set-up timed out");
}

/* ---- the module ---- */

static int copy_str(char *dst, size_t cap, const char *src)
{
	if (strlen(src) >= cap)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

struct vg_sshfwd *vg_sshfwd_new(const struct vg_sshfwd_config *cfg, char *err, size_t errlen)
{
	struct vg_sshfwd *s;
	size_t i;

	if (vg_sshfwd_check(cfg->spec, cfg->n, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = cfg->loop;
	s->ns = cfg->ns;
	s->log = cfg->log;
	s->f = vg_sshlib();
	s->gateway_ip = cfg->gateway_ip;
	s->guest_ip = cfg->guest_ip;
	for (i = 0; i < VG_SSHFWD_MAX; i++) {
		s->fw[i].lio.fd = -1;
		s->fw[i].sio.fd = -1;
	}
	for (i = 0; i < cfg->n; i++) {
		struct fwd_one *fw = &s->fw[i];
		const struct vg_sshfwd_spec *sp = &cfg->spec[i];
		int fd, rc;

		fw->s = s;
		vg_timer_init(&fw->timer, fw_timer, fw);
		fw->backoff_ms = VG_SSHFWD_RETRY_MIN_MS;
		if (copy_str(fw->sock, sizeof(fw->sock), sock_path(sp->sock)) < 0 ||
		    copy_str(fw->dest, sizeof(fw->dest), sp->dest) < 0 ||
		    copy_str(fw->user, sizeof(fw->user), sp->user) < 0) {
			snprintf(err, errlen, "-forward-sock %s: a value is too long", sp->sock);
			goto fail;
		}
		if (s->f->pki_import_privkey_file(sp->identity, NULL, NULL, NULL, &fw->key) !=
		    SSH_OK) {
			snprintf(err, errlen, "cannot load -forward-identity '%s'", sp->identity);
			goto fail;
		}
		s->n = i + 1; /* from here vg_sshfwd_free() cleans this one up */
		fd = vg_unix_listen(fw->sock, "-forward-sock", SSHFWD_BACKLOG, err, errlen);
		if (fd < 0)
			goto fail;
		rc = vg_io_add(s->loop, &fw->lio, fd, 0, listener_io, fw);
		if (rc < 0) {
			snprintf(err, errlen, "-forward-sock %s: epoll: %s", fw->sock,
				 strerror(-rc));
			close(fd);
			unlink(fw->sock);
			goto fail;
		}
		s->st.forwards++;
		vg_log(s->log, VG_LOG_INFO, "-forward-sock %s -> %s@guest:%s over SSH", fw->sock,
		       fw->user, fw->dest);
	}
	s->n = cfg->n;
	for (i = 0; i < s->n; i++) {
		if (vg_timer_start(s->loop, &s->fw[i].timer, 0) < 0) {
			snprintf(err, errlen, "-forward-sock: no timer left");
			goto fail;
		}
	}
	return s;
fail:
	vg_sshfwd_free(s);
	return NULL;
}

void vg_sshfwd_free(struct vg_sshfwd *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct fwd_one *fw = &s->fw[i];

		session_close(fw, false);
		vg_timer_stop(s->loop, &fw->timer);
		if (fw->lio.fd >= 0) {
			int fd = fw->lio.fd;

			vg_io_del(s->loop, &fw->lio);
			close(fd);
			unlink(fw->sock);
		}
		if (fw->key)
			s->f->key_free(fw->key);
	}
	free(s);
}

void vg_sshfwd_get_stats(const struct vg_sshfwd *s, struct vg_sshfwd_stats *st)
{
	if (!s) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = s->st;
}
