/* Fuzz target: the MPEG-TS side of pp-fanout and pp-bridge (lib/ts.c and
 * lib/fanq.c), which read whatever the producer writes. The input is a
 * stream: it goes through the packet parser and keyframe finder packet
 * by packet, then through a consumer queue in pieces of awkward sizes,
 * with three consumers on socket pairs: one read at once, one never
 * read (it falls behind, skips and is dropped), one that joins half way.
 * Limits are small so the stream's own clock reaches them. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fanq.h"
#include "fuzz.h"
#include "ts.h"

/* Piece sizes: a packet cut anywhere, several at once, one byte. */
static const size_t pieces[] = { 376, 1, 187, 189, 4096, 100, 188, 7 };

static void
run_loop(void)
{
	for (int i = 0; i < 64 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static void
drain(int fd)
{
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void
on_gone(FanqConsumer *c, const char *reason, gpointer data)
{
	int *peer = data;

	/* The queue closed its end; ours goes too. */
	if (*peer >= 0) {
		close(*peer);
		*peer = -1;
	}
}

static FanqConsumer *
consumer(Fanq *q, const char *name, int *peer, gboolean small)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	if (small) {
		int size = 4096;

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	*peer = sv[1];
	return fanq_add(q, sv[0], name, "prefix", 6, on_gone, peer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gboolean quiet;
	static const FanqLimits lim = { .max_lag_ms = 100,
	    .drop_after_ms = 1000, .max_backlog = 64 * 1024 };
	TsTracker *t = g_new(TsTracker, 1);
	Fanq *q;
	int reader = -1, stalled = -1, late = -1;
	size_t off, k;

	if (!quiet) {
		/* The queue's log lines (skips, drops) would drown the
		 * fuzzer's; sanitizer reports go to fd 2 regardless. */
		FILE *null = fopen("/dev/null", "w");

		if (null != NULL)
			stderr = null;
		quiet = TRUE;
	}

	TsLayerCut cut[TS_MAX_LAYERS];

	for (k = 0; k < TS_MAX_LAYERS; k++)
		ts_layer_cut_init(&cut[k], k);
	ts_tracker_init(t);
	for (off = 0; off + TS_PACKET_SIZE <= size; off += TS_PACKET_SIZE) {
		TsPacket pkt;
		unsigned flags = ts_tracker_feed(t, data + off);
		uint8_t out[TS_PACKET_SIZE];

		if (t->layers.n > TS_MAX_LAYERS)
			abort();
		/* Each layer's packets are packets (of two or more); a PMT
		 * made is whole, and its CRC holds (the CRC of a section
		 * with its CRC is 0). */
		for (k = 0; k < t->layers.n; k++) {
			TsPacket o;

			if (!ts_layer_cut(&cut[k], t, data + off, out))
				continue;
			/* One layer goes through as it came, garbage too. */
			if (t->layers.n < 2 ? memcmp(out, data + off,
			    TS_PACKET_SIZE) != 0 : out[0] != TS_SYNC_BYTE)
				abort();
			if ((flags & TS_FEED_PMT) && t->layers.n > 1 &&
			    ts_packet_parse(out, &o) && o.pusi && out[4] == 0 &&
			    (out[3] & 0x30) == 0x10) {
				size_t slen = ((out[6] & 0x0f) << 8) | out[7];

				if (8 + slen > TS_PACKET_SIZE ||
				    ts_crc32(out + 5, 3 + slen) != 0)
					abort();
			}
		}

		if (ts_packet_parse(data + off, &pkt) && pkt.has_payload &&
		    (pkt.payload < data + off || pkt.payload + pkt.payload_len !=
		    data + off + TS_PACKET_SIZE))
			abort();
		if ((flags & TS_FEED_KEYFRAME) && !(flags & TS_FEED_VIDEO_START))
			abort();
		{
			char name[16], text[TS_EVENT_TEXT_MAX + 1];

			if (ts_event_parse(data + off, name, sizeof(name), text,
			    sizeof(text)) && (strlen(name) >= sizeof(name) ||
			    strlen(text) > TS_EVENT_TEXT_MAX))
				abort();
		}
	}
	{
		/* Paced times never go back, nor before the start. */
		TsPacer *pacer = g_new(TsPacer, 1);
		int64_t last = 0, due;

		ts_pacer_init(pacer);
		for (off = 0; off + TS_PACKET_SIZE <= size; off += TS_PACKET_SIZE) {
			due = ts_pacer_feed(pacer, data + off, 1000000);
			if (due < 1000000 || (pacer->started && due < last))
				abort();
			last = due;
		}
		g_free(pacer);
	}
	(void)ts_h264_has_keyframe(data, size);
	if (ts_find_sync(data, size) > size)
		abort();
	g_free(t);

	q = fanq_new(&lim);
	consumer(q, "reader", &reader, FALSE);
	consumer(q, "stalled", &stalled, TRUE);
	run_loop();
	for (off = 0, k = size % G_N_ELEMENTS(pieces); off < size; k++) {
		size_t n = MIN(pieces[k % G_N_ELEMENTS(pieces)], size - off);

		fanq_push(q, data + off, n);
		off += n;
		if (late < 0 && off >= size / 2)
			consumer(q, "late", &late, FALSE);
		run_loop();
		if (reader >= 0)
			drain(reader);
		if (late >= 0)
			drain(late);
	}
	fanq_finish(q);
	run_loop();
	if (reader >= 0)
		drain(reader);
	if (fanq_packets(q) > size / TS_PACKET_SIZE)
		abort();
	fanq_free(q);
	run_loop();
	if (reader >= 0)
		close(reader);
	if (stalled >= 0)
		close(stalled);
	if (late >= 0)
		close(late);
	return 0;
}
