/* Unit test of lib/ts and lib/fanq on synthetic MPEG-TS: packet parsing,
 * PAT/PMT capture, keyframe finding (with and without the muxer's
 * random_access_indicator), the stream clock, garbage, and the consumer
 * queue's start, skip and drop rules over real sockets. Prints TAP. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fanq.h"
#include "log.h"
#include "ts.h"
#include "tap.h"

#define VPID	0x100
#define APID	0x101
#define PMTPID	0x1000

static uint8_t cc[8192];

static uint8_t *
packet(GByteArray *out, int pid, int pusi)
{
	uint8_t p[TS_PACKET_SIZE];

	memset(p, 0xff, sizeof(p));
	p[0] = TS_SYNC_BYTE;
	p[1] = (pusi ? 0x40 : 0) | (pid >> 8);
	p[2] = pid & 0xff;
	p[3] = 0x10 | (cc[pid]++ & 0x0f);
	g_byte_array_append(out, p, sizeof(p));
	return out->data + out->len - TS_PACKET_SIZE;
}

static void
add_pat(GByteArray *out)
{
	static const uint8_t sec[] = { 0, 0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0,
	    0, 1, 0xe0 | (PMTPID >> 8), PMTPID & 0xff, 1, 2, 3, 4 };
	uint8_t *p = packet(out, TS_PID_PAT, 1);

	memcpy(p + 4, sec, sizeof(sec));
}

static void
add_pmt(GByteArray *out, gboolean with_video)
{
	static const uint8_t sec[] = { 0, 0x02, 0xb0, 23, 0, 1, 0xc1, 0, 0,
	    0xe0 | (VPID >> 8), VPID & 0xff, 0xf0, 0,
	    0x1b, 0xe0 | (VPID >> 8), VPID & 0xff, 0xf0, 0,
	    0x0f, 0xe0 | (APID >> 8), APID & 0xff, 0xf0, 0, 1, 2, 3, 4 };
	static const uint8_t sec_audio[] = { 0, 0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0,
	    0xe0 | (APID >> 8), APID & 0xff, 0xf0, 0,
	    0x0f, 0xe0 | (APID >> 8), APID & 0xff, 0xf0, 0, 1, 2, 3, 4 };
	uint8_t *p = packet(out, PMTPID, 1);

	if (with_video)
		memcpy(p + 4, sec, sizeof(sec));
	else
		memcpy(p + 4, sec_audio, sizeof(sec_audio));
}

/* One video access unit of npk packets: PCR and PTS = ticks; a keyframe
 * carries AUD SPS PPS IDR, else AUD and a non-IDR slice. */
static void
add_frame(GByteArray *out, gboolean key, gboolean rai, uint64_t ticks, int npk)
{
	uint8_t *p = packet(out, VPID, 1);
	size_t o;
	int i;

	p[3] = (p[3] & 0x0f) | 0x30;	/* adaptation field and payload */
	p[4] = 7;
	p[5] = 0x10 | (key && rai ? 0x40 : 0);
	p[6] = ticks >> 25;
	p[7] = ticks >> 17;
	p[8] = ticks >> 9;
	p[9] = ticks >> 1;
	p[10] = ((ticks & 1) << 7) | 0x7e;
	p[11] = 0;
	o = 12;
	{
		uint8_t pes[] = { 0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5,
		    0x21 | ((ticks >> 29) & 0x0e), ticks >> 22,
		    0x01 | ((ticks >> 14) & 0xfe), ticks >> 7,
		    0x01 | ((ticks << 1) & 0xfe) };
		memcpy(p + o, pes, sizeof(pes));
		o += sizeof(pes);
	}
	{
		static const uint8_t idr[] = { 0, 0, 0, 1, 9, 0xf0, 0, 0, 0, 1,
		    0x67, 0x42, 0, 0x1e, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65,
		    0x88, 0x84 };
		static const uint8_t non[] = { 0, 0, 0, 1, 9, 0xf0, 0, 0, 1,
		    0x41, 0x9a, 0x02 };

		if (key)
			memcpy(p + o, idr, sizeof(idr));
		else
			memcpy(p + o, non, sizeof(non));
	}
	for (i = 1; i < npk; i++) {
		p = packet(out, VPID, 0);
		memset(p + 4, 0xaa, TS_PACKET_SIZE - 4);
	}
	p = packet(out, APID, 1);
	memset(p + 4, 0x55, TS_PACKET_SIZE - 4);
}

/* seconds of stream at 25 fps, a keyframe every gop frames. */
static GByteArray *
make_stream(double seconds, int gop, uint64_t *ticks, int *frame)
{
	GByteArray *out = g_byte_array_new();
	int n = (int)(seconds * 25), i;

	for (i = 0; i < n; i++, (*frame)++, *ticks += TS_CLOCK_HZ / 25) {
		if (*frame % gop == 0) {
			add_pat(out);
			add_pmt(out, TRUE);
		}
		add_frame(out, *frame % gop == 0, TRUE, *ticks, 10);
	}
	return out;
}

static void
test_parse(void)
{
	uint8_t p[TS_PACKET_SIZE];
	TsPacket pkt;
	GByteArray *s = g_byte_array_new();

	add_frame(s, TRUE, TRUE, 123456789, 1);
	ok(ts_packet_parse(s->data, &pkt) && pkt.pid == VPID && pkt.pusi &&
	    pkt.rai && pkt.has_pcr && pkt.pcr == 123456789 &&
	    pkt.payload_len == TS_PACKET_SIZE - 12,
	    "packet: PID, PUSI, RAI, PCR and payload parsed");
	memcpy(p, s->data, sizeof(p));
	p[0] = 0x48;
	ok(!ts_packet_parse(p, &pkt), "packet: no sync byte is refused");
	memcpy(p, s->data, sizeof(p));
	p[4] = 190;
	ok(!ts_packet_parse(p, &pkt), "packet: adaptation field past the end is refused");
	p[4] = 183;
	ok(ts_packet_parse(p, &pkt) && !pkt.has_payload && pkt.payload_len == 0,
	    "packet: adaptation field filling the packet leaves no payload");
	ok(ts_find_sync((const uint8_t *)"abc\x47", 4) == 3 &&
	    ts_find_sync((const uint8_t *)"abc", 3) == 3, "ts_find_sync");
	g_byte_array_unref(s);
}

static void
test_tracker(void)
{
	TsTracker t;
	GByteArray *s = g_byte_array_new();
	unsigned f;
	int64_t c0;

	ts_tracker_init(&t);
	ok(!ts_tracker_can_start(&t, TS_FEED_KEYFRAME),
	    "no start at a keyframe before the PAT and PMT are known");
	add_pat(s);
	add_pmt(s, TRUE);
	f = ts_tracker_feed(&t, s->data);
	ok((f & TS_FEED_PAT) && t.have_pat && t.pmt_pid == PMTPID &&
	    memcmp(t.pat, s->data, TS_PACKET_SIZE) == 0,
	    "PAT captured, PMT PID found");
	f = ts_tracker_feed(&t, s->data + TS_PACKET_SIZE);
	ok((f & TS_FEED_PMT) && t.have_pmt && t.video_pid == VPID &&
	    t.video_type == 0x1b && t.pcr_pid == VPID &&
	    memcmp(t.pmt, s->data + TS_PACKET_SIZE, TS_PACKET_SIZE) == 0,
	    "PMT captured, H.264 video PID and PCR PID found");

	g_byte_array_set_size(s, 0);
	add_frame(s, TRUE, TRUE, 1000, 1);
	f = ts_tracker_feed(&t, s->data);
	ok((f & TS_FEED_KEYFRAME) && (f & TS_FEED_VIDEO_START),
	    "keyframe found by random_access_indicator");
	ok(ts_tracker_can_start(&t, f) && !ts_tracker_can_start(&t, TS_FEED_PAT),
	    "with video: a start at the keyframe, not at a PAT");
	g_byte_array_set_size(s, 0);
	add_frame(s, TRUE, FALSE, 1000 + 3600, 1);
	f = ts_tracker_feed(&t, s->data);
	ok((f & TS_FEED_KEYFRAME) != 0, "keyframe found by its SPS/IDR NAL units without RAI");
	g_byte_array_set_size(s, 0);
	add_frame(s, FALSE, FALSE, 1000 + 7200, 1);
	f = ts_tracker_feed(&t, s->data);
	ok((f & TS_FEED_VIDEO_START) && !(f & TS_FEED_KEYFRAME),
	    "a non-IDR picture is no keyframe");
	ok(t.clock == 7200, "clock follows the PCR (%" G_GINT64_FORMAT " ticks)", t.clock);

	/* The 33-bit PCR wraps: the clock goes on. A jump is not time. */
	c0 = t.clock;
	g_byte_array_set_size(s, 0);
	add_frame(s, FALSE, FALSE, (UINT64_C(1) << 33) - 1800, 1);
	add_frame(s, FALSE, FALSE, 1800, 1);
	ts_tracker_feed(&t, s->data);
	ts_tracker_feed(&t, s->data + 2 * TS_PACKET_SIZE);
	ok(t.clock - c0 == 3600, "clock across the 33-bit wrap: +%" G_GINT64_FORMAT " ticks",
	    t.clock - c0 - 0);
	ok(ts_h264_has_keyframe((const uint8_t *)"\0\0\1\x65", 4) &&
	    !ts_h264_has_keyframe((const uint8_t *)"\0\0\1\x41\0\0\1\x65", 8) &&
	    !ts_h264_has_keyframe((const uint8_t *)"\0\0\1", 3),
	    "IDR scan: IDR found, stops at the first non-IDR slice, short input");
	g_byte_array_unref(s);
}

static void
test_garbage(void)
{
	TsTracker t;
	GRand *r = g_rand_new_with_seed(42);
	uint8_t p[TS_PACKET_SIZE];
	int i, j;

	/* Random packets with a sync byte and the PAT/PMT PIDs now and
	 * then, so the section parsers see garbage too. */
	ts_tracker_init(&t);
	for (i = 0; i < 200000; i++) {
		for (j = 0; j < TS_PACKET_SIZE; j++)
			p[j] = g_rand_int(r);
		p[0] = TS_SYNC_BYTE;
		if (i % 3 == 0) {
			p[1] = (p[1] & 0xe0) | 0x40;
			p[2] = 0;
		} else if (i % 3 == 1 && t.pmt_pid >= 0) {
			p[1] = (p[1] & 0xe0) | 0x40 | (t.pmt_pid >> 8);
			p[2] = t.pmt_pid & 0xff;
		}
		ts_tracker_feed(&t, p);
	}
	ok(t.packets == 200000, "200000 random packets parsed without a crash");
	g_rand_free(r);
}

/* Reads what is there without blocking. */
static void
drain(int fd, GByteArray *into)
{
	uint8_t buf[65536];
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		if (into != NULL)
			g_byte_array_append(into, buf, r);
}

static void
pump(int fd, GByteArray *into)
{
	int i;

	for (i = 0; i < 100; i++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		drain(fd, into);
	}
}

static void
pair(int sv[2], int sndbuf)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	if (sndbuf > 0)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
}

static char *gone_reason[4];
static int gone_calls[4];

static void
on_gone(FanqConsumer *c, const char *reason, gpointer data)
{
	int i = GPOINTER_TO_INT(data);

	gone_calls[i]++;
	g_free(gone_reason[i]);
	gone_reason[i] = g_strdup(reason != NULL ? reason : "eof");
}

static gboolean
pid_at(const GByteArray *b, size_t pkt, int pid)
{
	size_t o = pkt * TS_PACKET_SIZE;

	return b->len >= o + TS_PACKET_SIZE && b->data[o] == TS_SYNC_BYTE &&
	    (((b->data[o + 1] & 0x1f) << 8) | b->data[o + 2]) == pid;
}

static void
test_queue_start(void)
{
	Fanq *q = fanq_new(NULL);
	int sv[2];
	uint64_t ticks = 0;
	int frame = 0;
	GByteArray *a = make_stream(1.0, 10, &ticks, &frame), *got, *b;
	TsPacket pkt;
	const char hdr[] = "HTTP/1.0 200 OK\r\n\r\n";

	/* 25 frames, keyframes at 0, 10 and 20: the newest is 160 ms old
	 * when c1 joins, a start at once. */
	fanq_push(q, a->data, a->len);
	pair(sv, 0);
	got = g_byte_array_new();
	fanq_add(q, sv[0], "c1", hdr, strlen(hdr), on_gone, GINT_TO_POINTER(0));
	pump(sv[1], got);
	ok(got->len > strlen(hdr) && memcmp(got->data, hdr, strlen(hdr)) == 0,
	    "queue: the prefix comes first");
	g_byte_array_remove_range(got, 0, strlen(hdr));
	ok(pid_at(got, 0, TS_PID_PAT) && pid_at(got, 1, PMTPID),
	    "queue: a newcomer gets PAT and PMT first");
	ok(got->len >= 3 * TS_PACKET_SIZE &&
	    ts_packet_parse(got->data + 2 * TS_PACKET_SIZE, &pkt) &&
	    pkt.pid == VPID && pkt.pusi && pkt.rai,
	    "queue: then the stream from a keyframe");
	ok(got->len == 2 * TS_PACKET_SIZE + 5 * 11 * TS_PACKET_SIZE,
	    "queue: a recent keyframe is a start at once (%u bytes)", got->len);

	/* A keyframe 600 ms old is too late: wait for the next one. */
	b = make_stream(0.6, 100, &ticks, &frame);
	g_byte_array_unref(a);
	a = make_stream(0.6, 1000, &ticks, &frame);
	g_byte_array_append(b, a->data, a->len);
	fanq_push(q, b->data, b->len);
	pump(sv[1], NULL);
	{
		int sv2[2];
		GByteArray *got2 = g_byte_array_new();

		pair(sv2, 0);
		fanq_add(q, sv2[0], "c2", NULL, 0, on_gone, GINT_TO_POINTER(1));
		pump(sv2[1], got2);
		ok(got2->len == 0, "queue: no start at a keyframe 1 s old");
		g_byte_array_unref(a);
		frame = 0;	/* the next frame is a keyframe */
		a = make_stream(0.2, 10, &ticks, &frame);
		fanq_push(q, a->data, a->len);
		pump(sv2[1], got2);
		ok(pid_at(got2, 0, TS_PID_PAT) && pid_at(got2, 1, PMTPID) &&
		    pid_at(got2, 2, VPID) && got2->len == a->len,
		    "queue: the waiting consumer starts at the next keyframe");
		fanq_finish(q);
		pump(sv2[1], got2);
		ok(gone_calls[0] == 1 && gone_calls[1] == 1 &&
		    strcmp(gone_reason[1], "eof") == 0 && fanq_count(q) == 0,
		    "queue: end of stream closes every consumer");
		ok(recv(sv2[1], got2->data, 1, MSG_DONTWAIT) == 0,
		    "queue: the consumer sees EOF");
		close(sv2[1]);
		g_byte_array_unref(got2);
	}
	close(sv[1]);
	fanq_free(q);
	g_byte_array_unref(a);
	g_byte_array_unref(b);
	g_byte_array_unref(got);
}

static void
test_queue_slow(void)
{
	Fanq *q = fanq_new(NULL);
	int fast[2], slow[2], i;
	uint64_t ticks = 0;
	int frame = 0;
	GByteArray *got = g_byte_array_new(), *all = g_byte_array_new();
	FanqConsumer *cs;

	memset(gone_calls, 0, sizeof(gone_calls));
	pair(fast, 0);
	pair(slow, 4096);
	fanq_add(q, fast[0], "fast", NULL, 0, on_gone, GINT_TO_POINTER(0));
	cs = fanq_add(q, slow[0], "slow", NULL, 0, on_gone, GINT_TO_POINTER(1));
	/* 4 s in 40 ms pieces, a keyframe a second; slow never reads. */
	for (i = 0; i < 100; i++) {
		GByteArray *a = make_stream(0.04, 25, &ticks, &frame);

		fanq_push(q, a->data, a->len);
		g_byte_array_append(all, a->data, a->len);
		pump(fast[1], got);
		g_byte_array_unref(a);
	}
	ok(got->len == all->len && memcmp(got->data, all->data, all->len) == 0,
	    "slow consumer: the fast one got every byte (%u of %u)", got->len,
	    all->len);
	ok(fanq_consumer_skips(cs) >= 2 && gone_calls[1] == 0,
	    "slow consumer: skipped forward (%u skips), not dropped yet",
	    fanq_consumer_skips(cs));
	/* The slow one reads a little: it gets whole packets only. */
	{
		GByteArray *s = g_byte_array_new();
		size_t k;
		gboolean framed = TRUE;

		for (i = 0; i < 20; i++)
			pump(slow[1], s);
		for (k = 0; k + TS_PACKET_SIZE <= s->len; k += TS_PACKET_SIZE)
			framed = framed && s->data[k] == TS_SYNC_BYTE;
		ok(s->len > 0 && s->len % TS_PACKET_SIZE == 0 && framed,
		    "slow consumer: what it gets after skips is still whole packets (%u bytes)",
		    s->len);
		g_byte_array_unref(s);
	}
	/* Not reading for more than 10 s of stream: dropped. */
	for (i = 0; i < 300; i++) {
		GByteArray *a = make_stream(0.04, 25, &ticks, &frame);

		fanq_push(q, a->data, a->len);
		drain(fast[1], NULL);
		g_byte_array_unref(a);
		if (i == 0)
			pump(slow[1], NULL);	/* catches up, then stops */
	}
	ok(gone_calls[1] == 1 && g_str_has_prefix(gone_reason[1], "stayed behind for more than 10000 ms"),
	    "slow consumer: dropped with a reason (%s)", gone_reason[1] ? gone_reason[1] : "none");
	ok(gone_calls[0] == 0 && fanq_count(q) == 1, "slow consumer: the fast one is still there");
	close(fast[1]);
	pump(-1, NULL);
	ok(gone_calls[0] == 1 && strcmp(gone_reason[0], "closed the connection") == 0 &&
	    fanq_count(q) == 0, "a consumer that hangs up is noticed while idle");
	close(slow[1]);
	fanq_free(q);
	g_byte_array_unref(got);
	g_byte_array_unref(all);
}

static void
test_queue_garbage(void)
{
	Fanq *q = fanq_new(NULL);
	int sv[2], i;
	uint64_t ticks = 0;
	int frame = 0;
	GByteArray *a = make_stream(1.0, 25, &ticks, &frame), *in = g_byte_array_new();
	GByteArray *got = g_byte_array_new();
	GRand *r = g_rand_new_with_seed(7);
	size_t o;

	/* The stream with runs of garbage (sync bytes included) before
	 * every fifth packet, pushed in odd pieces: the consumer gets
	 * exactly the packets. */
	for (o = 0; o < a->len; o += TS_PACKET_SIZE) {
		int n = o / TS_PACKET_SIZE % 5 == 4 ?
		    g_rand_int_range(r, 1, TS_PACKET_SIZE) : 0;

		for (i = 0; i < n; i++) {
			uint8_t b = i % 7 == 3 ? TS_SYNC_BYTE : g_rand_int(r);

			if (i == 0 && b == TS_SYNC_BYTE)
				b = 0;

			g_byte_array_append(in, &b, 1);
		}
		g_byte_array_append(in, a->data + o, TS_PACKET_SIZE);
	}
	pair(sv, 0);
	fanq_add(q, sv[0], "c", NULL, 0, on_gone, GINT_TO_POINTER(2));
	pump(sv[1], got);
	for (o = 0; o < in->len; ) {
		size_t n = MIN(in->len - o, (size_t)g_rand_int_range(r, 1, 1000));

		fanq_push(q, in->data + o, n);
		o += n;
	}
	pump(sv[1], got);
	ok(got->len == a->len && memcmp(got->data, a->data, a->len) == 0,
	    "garbage between packets is dropped, every packet kept (%u of %u bytes)",
	    got->len, a->len);
	/* Pure noise in random pieces. */
	for (i = 0; i < 2000; i++) {
		uint8_t buf[1000];
		int n = g_rand_int_range(r, 1, sizeof(buf)), j;

		for (j = 0; j < n; j++)
			buf[j] = j % 11 == 0 ? TS_SYNC_BYTE : g_rand_int(r);
		fanq_push(q, buf, n);
		drain(sv[1], NULL);
	}
	/* Then a clean stream again: it comes through in whole packets,
	 * to its last one. */
	{
		GByteArray *b = make_stream(2.0, 25, &ticks, &frame);
		GByteArray *after = g_byte_array_new();
		size_t tail = 10 * TS_PACKET_SIZE;
		gboolean aligned = TRUE;

		drain(sv[1], NULL);
		fanq_push(q, b->data, b->len);
		pump(sv[1], after);
		for (o = 0; o < after->len && aligned; o += TS_PACKET_SIZE)
			aligned = after->data[o] == TS_SYNC_BYTE;
		ok(after->len >= tail && after->len % TS_PACKET_SIZE == 0 &&
		    aligned && memcmp(after->data + after->len - tail,
		    b->data + b->len - tail, tail) == 0,
		    "after 2 MB of noise, a clean stream comes through in whole packets to its end (%u bytes)",
		    after->len);
		g_byte_array_unref(b);
		g_byte_array_unref(after);
	}
	close(sv[1]);
	fanq_free(q);
	g_rand_free(r);
	g_byte_array_unref(a);
	g_byte_array_unref(in);
	g_byte_array_unref(got);
}

static void
test_audio_only(void)
{
	Fanq *q = fanq_new(NULL);
	int sv[2];
	GByteArray *a = g_byte_array_new(), *got = g_byte_array_new();
	uint8_t *p;

	add_pat(a);
	add_pmt(a, FALSE);
	p = packet(a, APID, 1);
	memset(p + 4, 0x55, TS_PACKET_SIZE - 4);
	pair(sv, 0);
	fanq_add(q, sv[0], "c", NULL, 0, on_gone, GINT_TO_POINTER(3));
	pump(sv[1], got);
	fanq_push(q, a->data, a->len);
	pump(sv[1], got);
	ok(got->len >= 3 * TS_PACKET_SIZE && pid_at(got, 0, TS_PID_PAT),
	    "a stream without video starts at once (%u bytes)", got->len);
	close(sv[1]);
	fanq_free(q);
	g_byte_array_unref(a);
	g_byte_array_unref(got);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init();
	printf("1..33\n");
	test_parse();
	test_tracker();
	test_garbage();
	test_queue_start();
	test_queue_slow();
	test_queue_garbage();
	test_audio_only();
	if (n_test != 33)
		printf("# planned 33 tests, ran %d\n", n_test);
	return n_failed || n_test != 33;
}
