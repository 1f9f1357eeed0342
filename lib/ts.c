#include "ts.h"

#include <stdio.h>
#include <string.h>

/* Stamps further apart than this are a jump (a new stream, a seek), not
 * the passing of time: the clock does not follow them. */
#define TS_MAX_STEP	(5 * TS_CLOCK_HZ)
#define TS_STAMP_MASK	((UINT64_C(1) << 33) - 1)

gboolean
ts_packet_parse(const uint8_t *p, TsPacket *pkt)
{
	unsigned afc;
	size_t off = 4;

	memset(pkt, 0, sizeof(*pkt));
	if (p[0] != TS_SYNC_BYTE)
		return FALSE;
	pkt->tei = (p[1] & 0x80) != 0;
	pkt->pusi = (p[1] & 0x40) != 0;
	pkt->pid = ((p[1] & 0x1f) << 8) | p[2];
	afc = (p[3] >> 4) & 0x3;
	pkt->cc = p[3] & 0x0f;
	if (afc == 0)
		return FALSE;	/* reserved */
	if (afc & 0x2) {
		size_t alen = p[4];

		off = 5 + alen;
		if (off > TS_PACKET_SIZE)
			return FALSE;
		if (alen >= 1) {
			pkt->discontinuity = (p[5] & 0x80) != 0;
			pkt->rai = (p[5] & 0x40) != 0;
			if ((p[5] & 0x10) && alen >= 7) {
				pkt->has_pcr = TRUE;
				pkt->pcr = ((uint64_t)p[6] << 25) |
				    ((uint64_t)p[7] << 17) | ((uint64_t)p[8] << 9) |
				    ((uint64_t)p[9] << 1) | (p[10] >> 7);
			}
		}
	}
	if ((afc & 0x1) && off < TS_PACKET_SIZE) {
		pkt->has_payload = TRUE;
		pkt->payload = p + off;
		pkt->payload_len = TS_PACKET_SIZE - off;
	}
	return TRUE;
}

size_t
ts_find_sync(const uint8_t *buf, size_t len)
{
	const uint8_t *s = memchr(buf, TS_SYNC_BYTE, len);

	return s != NULL ? (size_t)(s - buf) : len;
}

gboolean
ts_h264_has_keyframe(const uint8_t *es, size_t len)
{
	size_t i;

	/* Start codes 00 00 01, then the NAL header: type 5 is an IDR
	 * slice, 7 an SPS. The first slice ends the search: whatever
	 * follows belongs to the same picture. */
	for (i = 0; i + 3 < len; i++) {
		unsigned type;

		if (es[i] != 0 || es[i + 1] != 0 || es[i + 2] != 1)
			continue;
		type = es[i + 3] & 0x1f;
		if (type == 5 || type == 7)
			return TRUE;
		if (type == 1)
			return FALSE;
		i += 2;
	}
	return FALSE;
}

void
ts_tracker_init(TsTracker *t)
{
	memset(t, 0, sizeof(*t));
	t->pmt_pid = t->video_pid = t->pcr_pid = -1;
	memset(t->last_cc, -1, sizeof(t->last_cc));
}

gboolean
ts_tracker_has_video(const TsTracker *t)
{
	return t->video_pid >= 0;
}

gboolean
ts_tracker_can_start(const TsTracker *t, unsigned bits)
{
	if (!t->have_pat || !t->have_pmt)
		return FALSE;
	return (bits & (ts_tracker_has_video(t) ? TS_FEED_KEYFRAME : TS_FEED_PAT)) != 0;
}

/* The section a PUSI packet starts, after its pointer_field; NULL unless
 * it is whole in this packet (pixelpass's PAT and PMT always are; a
 * longer one is skipped rather than reassembled). */
static const uint8_t *
section_start(const TsPacket *pkt, unsigned table_id, size_t *len)
{
	size_t ptr, slen;
	const uint8_t *s;

	if (!pkt->pusi || !pkt->has_payload || pkt->payload_len < 1)
		return NULL;
	ptr = pkt->payload[0];
	if (1 + ptr + 3 > pkt->payload_len)
		return NULL;
	s = pkt->payload + 1 + ptr;
	if (s[0] != table_id)
		return NULL;
	slen = ((s[1] & 0x0f) << 8) | s[2];
	/* The fixed header (5 bytes after section_length) and the CRC. */
	if (slen < 9 || 3 + slen > pkt->payload_len - 1 - ptr)
		return NULL;
	*len = 3 + slen;
	return s;
}

static gboolean
parse_pat(TsTracker *t, const TsPacket *pkt)
{
	size_t len, i;
	const uint8_t *s = section_start(pkt, 0x00, &len);

	if (s == NULL)
		return FALSE;
	/* Program loop: from byte 8 up to the CRC, 4 bytes each. */
	for (i = 8; i + 4 <= len - 4; i += 4) {
		unsigned program = (s[i] << 8) | s[i + 1];
		int pid = ((s[i + 2] & 0x1f) << 8) | s[i + 3];

		if (program == 0)
			continue;	/* the network PID */
		if (pid != t->pmt_pid) {
			t->pmt_pid = pid;
			t->have_pmt = FALSE;
		}
		return TRUE;
	}
	return FALSE;
}

static gboolean
is_video_type(uint8_t type)
{
	/* MPEG-1/2 video, MPEG-4 part 2, H.264, HEVC */
	return type == 0x01 || type == 0x02 || type == 0x10 || type == 0x1b ||
	    type == 0x24;
}

static gboolean
parse_pmt(TsTracker *t, const TsPacket *pkt)
{
	size_t len, i, info_len;
	const uint8_t *s = section_start(pkt, 0x02, &len);
	int video = -1;
	uint8_t vtype = 0;
	TsLayers layers = { .n = 0 };

	if (s == NULL || len < 12 + 4)
		return FALSE;
	t->pcr_pid = ((s[8] & 0x1f) << 8) | s[9];
	info_len = ((s[10] & 0x0f) << 8) | s[11];
	/* Stream loop, up to the CRC: type, PID, ES_info_length, info. */
	for (i = 12 + info_len; i + 5 <= len - 4; ) {
		uint8_t type = s[i];
		int pid = ((s[i + 1] & 0x1f) << 8) | s[i + 2];
		size_t es_len = ((s[i + 3] & 0x0f) << 8) | s[i + 4];

		if (video < 0 && is_video_type(type)) {
			video = pid;
			vtype = type;
		}
		if (is_video_type(type) && layers.n < TS_MAX_LAYERS) {
			layers.video_pids[layers.n] = pid;
			layers.video_types[layers.n++] = type;
		}
		i += 5 + es_len;
	}
	t->layers = layers;
	t->video_pid = video;
	t->video_type = vtype;
	t->have_pmt_info = TRUE;
	return TRUE;
}

static void
clock_advance(TsTracker *t, uint64_t stamp)
{
	uint64_t step;

	if (!t->clock_started) {
		t->clock_started = TRUE;
		t->last_stamp = stamp;
		return;
	}
	step = (stamp - t->last_stamp) & TS_STAMP_MASK;
	if (step <= TS_MAX_STEP)
		t->clock += step;
	t->last_stamp = stamp;
}

/* The PES header at the start of a video PES: its PTS, and where the
 * elementary stream starts. FALSE when it is not a PES header. */
static gboolean
parse_pes(const TsPacket *pkt, uint64_t *pts, gboolean *has_pts,
    const uint8_t **es, size_t *es_len)
{
	const uint8_t *p = pkt->payload;
	size_t n = pkt->payload_len, hlen;

	*has_pts = FALSE;
	if (n < 9 || p[0] != 0 || p[1] != 0 || p[2] != 1)
		return FALSE;
	hlen = 9 + p[8];
	if (hlen > n)
		return FALSE;
	if ((p[7] & 0x80) && p[8] >= 5) {
		*has_pts = TRUE;
		*pts = ((uint64_t)(p[9] & 0x0e) << 29) | ((uint64_t)p[10] << 22) |
		    ((uint64_t)(p[11] & 0xfe) << 14) | ((uint64_t)p[12] << 7) |
		    (p[13] >> 1);
	}
	*es = p + hlen;
	*es_len = n - hlen;
	return TRUE;
}

/* Which layer's video PID this is, or -1. */
static int
layer_of(const TsTracker *t, unsigned pid)
{
	for (unsigned i = 0; i < t->layers.n; i++)
		if (t->layers.video_pids[i] == (int)pid)
			return i;
	return -1;
}

unsigned
ts_tracker_feed(TsTracker *t, const uint8_t *p)
{
	TsPacket pkt;
	unsigned flags = 0;
	int layer;

	t->packets++;
	if (!ts_packet_parse(p, &pkt) || pkt.tei) {
		t->invalid++;
		return TS_FEED_INVALID;
	}
	if (pkt.pid != TS_PID_NULL && pkt.has_payload) {
		int8_t want = (t->last_cc[pkt.pid] + 1) & 0x0f;

		if (t->last_cc[pkt.pid] >= 0 && pkt.cc != want &&
		    pkt.cc != t->last_cc[pkt.pid] && !pkt.discontinuity) {
			t->cc_errors++;
			flags |= TS_FEED_CC_ERROR;
		}
		t->last_cc[pkt.pid] = pkt.cc;
	}
	if (pkt.has_pcr && (t->pcr_pid < 0 || pkt.pid == t->pcr_pid)) {
		t->have_pcr = TRUE;
		clock_advance(t, pkt.pcr);
	}
	if (pkt.pid == TS_PID_PAT) {
		if (parse_pat(t, &pkt)) {
			memcpy(t->pat, p, TS_PACKET_SIZE);
			t->have_pat = TRUE;
			flags |= TS_FEED_PAT;
		}
	} else if (t->pmt_pid >= 0 && pkt.pid == t->pmt_pid) {
		if (parse_pmt(t, &pkt)) {
			memcpy(t->pmt, p, TS_PACKET_SIZE);
			t->have_pmt = TRUE;
			flags |= TS_FEED_PMT;
		}
	} else if ((layer = layer_of(t, pkt.pid)) >= 0 && pkt.pusi &&
	    pkt.has_payload) {
		uint64_t pts = 0;
		gboolean has_pts, key = FALSE;
		const uint8_t *es = NULL;
		size_t es_len = 0;

		if (parse_pes(&pkt, &pts, &has_pts, &es, &es_len)) {
			if (layer == 0 && has_pts && !t->have_pcr)
				clock_advance(t, pts);
			/* The muxer's random_access_indicator is enough;
			 * without it, look for the IDR (H.264 only). */
			key = pkt.rai || (t->layers.video_types[layer] ==
			    0x1b && ts_h264_has_keyframe(es, es_len));
		} else
			key = pkt.rai;
		/* The top layer is the video of a stream without layers. */
		if (layer == 0)
			flags |= TS_FEED_VIDEO_START | (key ? TS_FEED_KEYFRAME : 0);
		else {
			flags |= TS_FEED_LAYER_START |
			    (key ? TS_FEED_LAYER_KEYFRAME : 0);
			t->feed_layer = layer;
		}
	}
	return flags;
}

void
ts_pacer_init(TsPacer *p)
{
	memset(p, 0, sizeof(*p));
	ts_tracker_init(&p->tracker);
}

int64_t
ts_pacer_feed(TsPacer *p, const uint8_t *pkt, int64_t now_us)
{
	int64_t due;

	ts_tracker_feed(&p->tracker, pkt);
	if (!p->tracker.clock_started)
		return now_us;
	if (!p->started) {
		p->started = TRUE;
		p->start_clock = p->tracker.clock;
		p->start_us = now_us;
	}
	due = p->start_us + (p->tracker.clock - p->start_clock) * 1000000 /
	    TS_CLOCK_HZ;
	return due < now_us ? now_us : due;
}

#define TS_EVENT_MAGIC	"pixelpass-event "

void
ts_event_packet(uint8_t pkt[TS_PACKET_SIZE], const char *name,
    const char *text)
{
	size_t tlen = strcspn(text, "\n");
	int n;

	if (tlen > TS_EVENT_TEXT_MAX)
		tlen = TS_EVENT_TEXT_MAX;
	memset(pkt, 0xff, TS_PACKET_SIZE);
	pkt[0] = TS_SYNC_BYTE;
	pkt[1] = 0x40 | (TS_PID_EVENT >> 8);	/* payload unit start */
	pkt[2] = TS_PID_EVENT & 0xff;
	pkt[3] = 0x10;				/* payload only, cc 0 */
	n = snprintf((char *)pkt + 4, TS_PACKET_SIZE - 4, "%s%s %.*s\n",
	    TS_EVENT_MAGIC, name, (int)tlen, text);
	/* snprintf's terminator (or a cut) is padding again. */
	if (n >= 0 && n < TS_PACKET_SIZE - 4)
		pkt[4 + n] = 0xff;
	pkt[TS_PACKET_SIZE - 1] = 0xff;
}

gboolean
ts_event_parse(const uint8_t *pkt, char *name, size_t name_size,
    char *text, size_t text_size)
{
	TsPacket p;
	const uint8_t *s, *end, *sp;
	size_t mlen = strlen(TS_EVENT_MAGIC), n;

	if (!ts_packet_parse(pkt, &p) || p.pid != TS_PID_EVENT ||
	    !p.has_payload || p.payload_len < mlen ||
	    memcmp(p.payload, TS_EVENT_MAGIC, mlen) != 0)
		return FALSE;
	s = p.payload + mlen;
	end = memchr(s, '\n', p.payload + p.payload_len - s);
	if (end == NULL)
		return FALSE;
	sp = memchr(s, ' ', end - s);
	if (sp == NULL)
		sp = end;
	n = MIN((size_t)(sp - s), name_size - 1);
	memcpy(name, s, n);
	name[n] = '\0';
	s = sp < end ? sp + 1 : end;
	n = MIN((size_t)(end - s), text_size - 1);
	for (size_t i = 0; i < n; i++)
		text[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	text[n] = '\0';
	for (char *c = name; *c != '\0'; c++)
		if (!g_ascii_isalnum(*c) && *c != '-')
			*c = '?';
	return TRUE;
}

uint32_t
ts_crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffff;

	/* MSB first, polynomial 0x04c11db7, no final inversion. */
	while (len-- > 0) {
		crc ^= (uint32_t)*p++ << 24;
		for (int i = 0; i < 8; i++)
			crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
	}
	return crc;
}

void
ts_layer_cut_init(TsLayerCut *c, unsigned layer)
{
	c->layer = layer;
	c->out_cc = -1;
}

/* The PMT section of IN naming only the layer's video, on the top
 * layer's PID; FALSE when IN is not a whole PMT section. */
static gboolean
cut_pmt(const TsLayerCut *c, const TsTracker *t, const TsPacket *pkt,
    const uint8_t *in, uint8_t out[TS_PACKET_SIZE])
{
	size_t len, info_len, i, n, es_len, mine = 0;
	const uint8_t *s = section_start(pkt, 0x02, &len);
	uint8_t *d = out + 5;
	uint32_t crc;

	if (s == NULL || len < 12 + 4)
		return FALSE;
	info_len = ((s[10] & 0x0f) << 8) | s[11];
	if (12 + info_len > len - 4)
		return FALSE;
	memset(out, 0xff, TS_PACKET_SIZE);
	/* Payload only, from the pointer field on; cc as the input's. */
	out[0] = in[0];
	out[1] = in[1];
	out[2] = in[2];
	out[3] = (in[3] & 0xcf) | 0x10;
	out[4] = 0;
	memcpy(d, s, n = 12 + info_len);
	/* The layer's entry where the top layer's was, as the top layer's:
	 * the stream looks the same to a player whatever the layer. */
	for (i = 12 + info_len; i + 5 <= len - 4; i += 5 + es_len) {
		es_len = ((s[i + 3] & 0x0f) << 8) | s[i + 4];
		if (i + 5 + es_len > len - 4)
			return FALSE;
		if (layer_of(t, ((s[i + 1] & 0x1f) << 8) | s[i + 2]) ==
		    (int)c->layer)
			mine = i;
	}
	for (i = 12 + info_len; i + 5 <= len - 4; i += 5 + es_len) {
		int layer = layer_of(t, ((s[i + 1] & 0x1f) << 8) | s[i + 2]);

		es_len = ((s[i + 3] & 0x0f) << 8) | s[i + 4];
		if (layer < 0) {
			memcpy(d + n, s + i, 5 + es_len);
			n += 5 + es_len;
		} else if (layer == 0 && mine != 0) {
			size_t mlen = ((s[mine + 3] & 0x0f) << 8) | s[mine + 4];
			int top = t->layers.video_pids[0];

			memcpy(d + n, s + mine, 5 + mlen);
			d[n + 1] = (s[mine + 1] & 0xe0) | (top >> 8);
			d[n + 2] = top & 0xff;
			n += 5 + mlen;
		}
	}
	/* section_length counts from after it, the CRC included. */
	d[1] = (s[1] & 0xf0) | ((n + 4 - 3) >> 8);
	d[2] = (n + 4 - 3) & 0xff;
	crc = ts_crc32(d, n);
	d[n] = crc >> 24;
	d[n + 1] = crc >> 16;
	d[n + 2] = crc >> 8;
	d[n + 3] = crc;
	return TRUE;
}

gboolean
ts_layer_cut(TsLayerCut *c, const TsTracker *t, const uint8_t *in,
    uint8_t out[TS_PACKET_SIZE])
{
	TsPacket pkt;
	int layer, top = t->layers.video_pids[0];

	if (t->layers.n < 2) {
		memcpy(out, in, TS_PACKET_SIZE);
		return TRUE;
	}
	/* Not a packet: no layer's stream has a place for it. */
	if (!ts_packet_parse(in, &pkt))
		return FALSE;
	if ((int)pkt.pid == t->pmt_pid && cut_pmt(c, t, &pkt, in, out))
		return TRUE;
	layer = layer_of(t, pkt.pid);
	if (layer < 0) {
		memcpy(out, in, TS_PACKET_SIZE);
		return TRUE;
	}
	if (layer == (int)c->layer) {
		memcpy(out, in, TS_PACKET_SIZE);
		if (layer > 0) {
			out[1] = (in[1] & 0xe0) | (top >> 8);
			out[2] = top & 0xff;
		}
		if (pkt.has_payload)
			c->out_cc = pkt.cc;
		return TRUE;
	}
	/* Another layer's video: only the top layer's clock is kept, once
	 * this stream's video PID has a counter to go on with. */
	if (layer != 0 || !pkt.has_pcr || (int)pkt.pid != t->pcr_pid ||
	    c->out_cc < 0)
		return FALSE;
	memset(out, 0xff, TS_PACKET_SIZE);
	out[0] = TS_SYNC_BYTE;
	out[1] = top >> 8;
	out[2] = top & 0xff;
	out[3] = 0x20 | c->out_cc;	/* adaptation field only */
	out[4] = TS_PACKET_SIZE - 5;
	out[5] = (in[5] & 0x80) | 0x10;	/* discontinuity as given, PCR */
	memcpy(out + 6, in + 6, 6);
	return TRUE;
}
