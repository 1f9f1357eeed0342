/* MPEG-TS as pixelpass needs it: 188-byte packets, the PAT and PMT of its
 * one program, where the video keyframes are, and a stream clock. Enough
 * to start a consumer cleanly at a keyframe and to bound its queue in
 * milliseconds; not a demuxer. Every function takes untrusted bytes. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define TS_PACKET_SIZE	188
#define TS_SYNC_BYTE	0x47
#define TS_PID_PAT	0x0000
#define TS_PID_NULL	0x1fff
#define TS_CLOCK_HZ	90000		/* the PTS/PCR base clock */

typedef struct {
	uint16_t pid;
	gboolean pusi;			/* payload_unit_start_indicator */
	gboolean tei;			/* transport_error_indicator */
	gboolean discontinuity;		/* adaptation field flags */
	gboolean rai;			/* random_access_indicator */
	gboolean has_pcr;
	uint64_t pcr;			/* PCR base, 90 kHz, 33 bits */
	uint8_t cc;			/* continuity_counter */
	gboolean has_payload;
	const uint8_t *payload;		/* inside the packet given */
	size_t payload_len;
} TsPacket;

/* Parses one packet of TS_PACKET_SIZE bytes. FALSE when it is not a
 * packet (no sync byte, an adaptation field longer than the packet). */
gboolean ts_packet_parse(const uint8_t *p, TsPacket *pkt);

/* Offset of the first sync byte in buf[0..len), or len when none. */
size_t ts_find_sync(const uint8_t *buf, size_t len);

/* Does this start of a PES payload (the bytes after the PES header, as
 * far as this packet carries them) hold an H.264 IDR slice, or an SPS
 * (the stream contract repeats SPS/PPS before every IDR)? */
gboolean ts_h264_has_keyframe(const uint8_t *es, size_t len);

/* Layers (see below): the video streams a PMT names. */
#define TS_MAX_LAYERS	4

typedef struct {
	int video_pids[TS_MAX_LAYERS];	/* PMT order */
	uint8_t video_types[TS_MAX_LAYERS];
	unsigned n;			/* how many the PMT names */
} TsLayers;

/* Bits returned by ts_tracker_feed for one packet. */
enum {
	TS_FEED_PAT = 1 << 0,		/* a whole PAT section: kept */
	TS_FEED_PMT = 1 << 1,		/* a whole PMT section: kept */
	TS_FEED_VIDEO_START = 1 << 2,	/* a video PES starts here */
	TS_FEED_KEYFRAME = 1 << 3,	/* ... and it is a keyframe */
	TS_FEED_INVALID = 1 << 4,	/* not a packet */
	TS_FEED_CC_ERROR = 1 << 5,	/* continuity counter jumped */
	TS_FEED_LAYER_START = 1 << 6,	/* a video PES of another layer */
	TS_FEED_LAYER_KEYFRAME = 1 << 7, /* ... a keyframe (feed_layer) */
};

typedef struct {
	int pmt_pid;			/* -1 until a PAT names it */
	int video_pid;			/* -1 until a PMT names one */
	int pcr_pid;			/* -1 until a PMT names it */
	uint8_t video_type;		/* stream_type, 0x1b for H.264 */
	gboolean have_pmt_info;		/* a PMT was parsed */
	TsLayers layers;		/* video_pids[0] is video_pid */
	unsigned feed_layer;		/* of TS_FEED_LAYER_* */
	uint8_t pat[TS_PACKET_SIZE];	/* the latest PAT and PMT packets, */
	uint8_t pmt[TS_PACKET_SIZE];	/* handed to each newcomer first */
	gboolean have_pat, have_pmt;
	int8_t last_cc[8192];		/* per PID, -1 when none yet */
	uint64_t cc_errors;
	uint64_t packets, invalid;
	/* A clock in 90 kHz ticks that only goes forward: the PCR (or, in a
	 * stream without one, the video PTS) with wraps and jumps removed. */
	int64_t clock;
	gboolean clock_started, have_pcr;
	uint64_t last_stamp;
} TsTracker;

void ts_tracker_init(TsTracker *t);
/* Takes one packet of TS_PACKET_SIZE bytes; returns TS_FEED_* bits. */
unsigned ts_tracker_feed(TsTracker *t, const uint8_t *p);
/* Is there a video stream to wait for a keyframe of? FALSE also while
 * no PMT has been seen. */
gboolean ts_tracker_has_video(const TsTracker *t);
/* Can a player that joins start at this packet (BITS from feeding it),
 * after the kept PAT and PMT? At a keyframe, or at a PAT in a stream
 * without video; never before the PAT and PMT are known. */
gboolean ts_tracker_can_start(const TsTracker *t, unsigned bits);

/* Milliseconds between two clock values. */
static inline int64_t
ts_clock_ms(int64_t ticks)
{
	return ticks / (TS_CLOCK_HZ / 1000);
}

/* Paces a recording at its own clock: the time each packet is due, on a
 * monotonic clock in microseconds, from a TsTracker's stream clock (the
 * PCR, its wraps and jumps removed). Packets before the first stamp are
 * due at once; so is everything of a stream with no clock. */
typedef struct {
	TsTracker tracker;
	int64_t start_clock;		/* stream clock at the first stamp */
	int64_t start_us;		/* and when that packet came */
	gboolean started;
} TsPacer;

void ts_pacer_init(TsPacer *p);
/* Takes one packet of TS_PACKET_SIZE bytes, seen at now_us; returns when
 * it is due (at most now_us for one that is late). */
int64_t ts_pacer_feed(TsPacer *p, const uint8_t *pkt, int64_t now_us);

/* Events of pp-fanout to its consumers, in the stream itself: one TS
 * packet on TS_PID_EVENT (a PID no PMT names, so players skip it), its
 * payload "pixelpass-event NAME TEXT\n" padded with 0xff. Listed in
 * pp-fanout(1); pp-fanout attach takes them out of what it writes. */
#define TS_PID_EVENT	0x1ff0
#define TS_EVENT_TEXT_MAX	150	/* longer text is cut */

/* Makes the event packet; text is cut at TS_EVENT_TEXT_MAX bytes and at
 * a newline. */
void ts_event_packet(uint8_t pkt[TS_PACKET_SIZE], const char *name,
    const char *text);
/* Is this packet an event? Then its name and text, terminated, each cut
 * to fit, and printable: other bytes become '?'. */
gboolean ts_event_parse(const uint8_t *pkt, char *name, size_t name_size,
    char *text, size_t text_size);

/* Layers. pp-encode --layers 2 muxes one program whose PMT names two
 * H.264 streams: the top layer on its usual PID (0x41, also the PCR
 * PID) and a lighter one after it (0x43), the AAC once. Keyframes of
 * both are at the same pictures, each with its SPS/PPS. Layer N is the
 * Nth video stream of the PMT, in its order.
 *
 * No player should ever see two video streams, so pp-fanout cuts the
 * input into one plain single-layer stream per layer, each stored once
 * (lib/fanq's lanes), and a consumer reads one of them:
 *   - PAT, audio and every other PID pass unchanged;
 *   - the PMT is rewritten to name only that layer's video, on the top
 *     layer's PID, with its own CRC-32; its continuity counter is the
 *     input's, as every input PMT makes one in each layer;
 *   - that layer's video packets pass, remapped to the top layer's PID:
 *     the video PID of every layer's stream is the same, so a move from
 *     one layer to another is, to a player, a new IDR with a new SPS
 *     (another size) on the stream it already plays;
 *   - the other layers' video is dropped, but the PCR the top layer's
 *     packets carry is kept as an adaptation-only packet on the output
 *     video PID (continuity counter unchanged, as such packets carry no
 *     payload), so that each layer's stream has its clock.
 * A stream with one video stream passes byte for byte. A move between
 * layers happens only at a keyframe of the layer moved to (fanq.h). */

/* One layer's stream out of the input, packet by packet. */
typedef struct {
	unsigned layer;
	int out_cc;			/* last cc on the output video PID, -1 */
} TsLayerCut;

void ts_layer_cut_init(TsLayerCut *c, unsigned layer);
/* What of the input packet IN goes into the layer's stream, given the
 * tracker T that has just taken it: FALSE, nothing; TRUE, OUT holds the
 * packet to send (IN, IN remapped, a rewritten PMT, a PCR-only packet). */
gboolean ts_layer_cut(TsLayerCut *c, const TsTracker *t, const uint8_t *in,
    uint8_t out[TS_PACKET_SIZE]);
/* The MPEG-2 CRC-32 of PSI sections. */
uint32_t ts_crc32(const uint8_t *p, size_t len);
