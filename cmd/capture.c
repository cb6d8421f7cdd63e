/* SPDX-License-Identifier: MIT */
/*
 * capture.c - pcap writer (see capture.h). The classic pcap file format
 * written directly (no libpcap: it was linked only for its dump writer and
 * cost every vgate its pages): a 24-byte file header (magic 0xa1b2c3d4 in
 * host byte order, version 2.4, snaplen, link type 1 = Ethernet), then per
 * frame a 16-byte record header (seconds, microseconds, captured and wire
 * length) and the captured bytes, through a stdio FILE.
 *
 * Timestamps are wall-clock microseconds; a write error stops the capture
 * (@failed: nothing more is written) rather than the daemon. Should the
 * flush timer fail to re-arm (the loop's timer heap is full), every frame
 * is flushed as it is written from then on: the file stays followable.
 */
#include "capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define PCAP_MAGIC	0xa1b2c3d4u /* microsecond timestamps */
#define PCAP_V_MAJOR	2
#define PCAP_V_MINOR	4
#define PCAP_LINK_ETHER 1

/* the file header and the per-record header, all fields in host order */
struct pcap_file_hdr {
	uint32_t magic;
	uint16_t v_major, v_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec, ts_usec, caplen, len;
};

struct vg_capture {
	FILE *f;
	struct vg_loop *loop;
	struct vg_timer flush;
	bool dirty;
	bool flush_each; /* the flush timer could not be re-armed */
	bool failed;	 /* a write failed: the capture stopped */
};

static void cap_flush(struct vg_capture *c)
{
	if (!c->failed && fflush(c->f) != 0)
		c->failed = true;
	c->dirty = false;
}

static void flush_fire(void *arg)
{
	struct vg_capture *c = arg;

	if (c->dirty)
		cap_flush(c);
	if (vg_timer_start(c->loop, &c->flush, VG_CAPTURE_FLUSH_MS) < 0)
		c->flush_each = true;
}

struct vg_capture *vg_capture_open(struct vg_loop *loop, const char *path, char *err, size_t errlen)
{
	struct pcap_file_hdr h = {PCAP_MAGIC, PCAP_V_MAJOR,	  PCAP_V_MINOR,	  0,
				  0,	      VG_CAPTURE_SNAPLEN, PCAP_LINK_ETHER};
	struct vg_capture *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "--pcap: out of memory");
		return NULL;
	}
	c->f = fopen(path, "we");
	if (!c->f) {
		snprintf(err, errlen, "cannot open --pcap '%s': %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	if (fwrite(&h, sizeof(h), 1, c->f) != 1 || fflush(c->f) != 0) {
		snprintf(err, errlen, "cannot write --pcap '%s': %s", path, strerror(errno));
		fclose(c->f);
		free(c);
		return NULL;
	}
	c->loop = loop;
	vg_timer_init(&c->flush, flush_fire, c);
	if (loop && vg_timer_start(loop, &c->flush, VG_CAPTURE_FLUSH_MS) < 0) {
		snprintf(err, errlen, "--pcap: cannot arm the flush timer");
		fclose(c->f);
		free(c);
		return NULL;
	}
	return c;
}

void vg_capture_frame(void *ctx, bool out, const uint8_t *f, size_t len)
{
	struct vg_capture *c = ctx;
	struct pcap_rec_hdr h;
	struct timeval tv;

	(void)out;
	if (c->failed)
		return;
	gettimeofday(&tv, NULL);
	h.ts_sec = (uint32_t)tv.tv_sec;
	h.ts_usec = (uint32_t)tv.tv_usec;
	h.len = (uint32_t)len;
	h.caplen = (uint32_t)(len > VG_CAPTURE_SNAPLEN ? VG_CAPTURE_SNAPLEN : len);
	if (fwrite(&h, sizeof(h), 1, c->f) != 1 || fwrite(f, 1, h.caplen, c->f) != h.caplen) {
		c->failed = true;
		return;
	}
	if (c->flush_each)
		cap_flush(c);
	else
		c->dirty = true;
}

void vg_capture_close(struct vg_capture *c)
{
	if (!c)
		return;
	if (c->loop)
		vg_timer_stop(c->loop, &c->flush);
	fclose(c->f);
	free(c);
}
