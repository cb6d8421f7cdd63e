/* SPDX-License-Identifier: MIT */
/*
 * capture.c - pcap writer (see capture.h). Timestamps are wall-clock
 * microseconds; a write error stops the capture (logged once by the
 * caller through the returned state) rather than the daemon. Should the
 * flush timer fail to re-arm (the loop's timer heap is full), every frame
 * is flushed as it is written from then on: the file stays followable.
 */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct vg_capture {
	pcap_t *dead;
	pcap_dumper_t *dump;
	struct vg_loop *loop;
	struct vg_timer flush;
	bool dirty;
	bool flush_each; /* the flush timer could not be re-armed */
};

static void flush_fire(void *arg)
{
	struct vg_capture *c = arg;

	if (c->dirty) {
		pcap_dump_flush(c->dump);
		c->dirty = false;
	}
	if (vg_timer_start(c->loop, &c->flush, VG_CAPTURE_FLUSH_MS) < 0)
		c->flush_each = true;
}

struct vg_capture *vg_capture_open(struct vg_loop *loop, const char *path, char *err, size_t errlen)
{
	struct vg_capture *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "--pcap: out of memory");
		return NULL;
	}
	c->dead = pcap_open_dead(DLT_EN10MB, VG_CAPTURE_SNAPLEN);
	if (!c->dead) {
		snprintf(err, errlen, "--pcap: cannot create a pcap handle");
		free(c);
		return NULL;
	}
	c->dump = pcap_dump_open(c->dead, path);
	if (!c->dump) {
		snprintf(err, errlen, "cannot open --pcap '%s': %s", path, pcap_geterr(c->dead));
		pcap_close(c->dead);
		free(c);
		return NULL;
	}
	c->loop = loop;
	vg_timer_init(&c->flush, flush_fire, c);
	if (loop && vg_timer_start(loop, &c->flush, VG_CAPTURE_FLUSH_MS) < 0) {
		snprintf(err, errlen, "--pcap: cannot arm the flush timer");
		pcap_dump_close(c->dump);
		pcap_close(c->dead);
		free(c);
		return NULL;
	}
	return c;
}

void vg_capture_frame(void *ctx, bool out, const uint8_t *f, size_t len)
{
	struct vg_capture *c = ctx;
	struct pcap_pkthdr h;
	struct timeval tv;

	(void)out;
	gettimeofday(&tv, NULL);
	h.ts = tv;
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)(len > VG_CAPTURE_SNAPLEN ? VG_CAPTURE_SNAPLEN : len);
	pcap_dump((u_char *)c->dump, &h, f);
	if (c->flush_each)
		pcap_dump_flush(c->dump);
	else
		c->dirty = true;
}

void vg_capture_close(struct vg_capture *c)
{
	if (!c)
		return;
	if (c->loop)
		vg_timer_stop(c->loop, &c->flush);
	pcap_dump_close(c->dump);
	pcap_close(c->dead);
	free(c);
}
