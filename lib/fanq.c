#include "fanq.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "ts.h"

#define TICKS_PER_MS	(TS_CLOCK_HZ / 1000)
#define MAX_IOV		64
/* How long a consumer waits at a keyframe for the other layer's. */
#define MOVE_HOLD_MS	200

/* A run of whole packets, stored once. Each chunk holds a reference on
 * the next, so whoever holds a chunk can read the stream on from it; the
 * oldest chunks go away when nobody points at them any more. */
typedef struct Chunk {
	unsigned ref;
	struct Chunk *next;
	uint64_t seq;
	uint64_t offset;		/* of data[0] in the stream */
	int64_t clock;			/* stream clock at its start */
	uint64_t in_seq, in_end;	/* input packets [in_seq, in_end) */
	uint64_t group_in;		/* a lane's entry: its group's start */
	gboolean keyframe;		/* starts with a keyframe */
	gboolean entry;			/* a lane's entry for a key group */
	uint8_t *psi;			/* keyframe: the PAT and PMT before it */
	size_t psi_len;
	/* The continuity counters of its first and last packets on the
	 * video PID (-1: none), and whether the first carries a payload
	 * (the counter goes up) or only a PCR (it stays): what a consumer
	 * moving here from another layer needs to carry its counter on. */
	int8_t first_vcc, last_vcc;
	gboolean first_vpay;
	size_t len, cap;
	uint8_t data[];
} Chunk;

/* One layer's stream (ts.h, "Layers"); a stream without layers has
 * lane 0 alone, the input as it came. */
typedef struct {
	Chunk *tail;			/* newest chunk (a reference) */
	Chunk *last_key;		/* newest keyframe chunk (a reference) */
	Chunk *building;		/* not yet visible to consumers */
	uint64_t seq, bytes;
	TsLayerCut cut;
	/* Where a consumer comes into this lane for a keyframe: the lane's
	 * first chunk from the start of the keyframe's group on (the
	 * keyframes of all layers of one picture, one after the other in
	 * the input), so that a consumer leaving another lane there sends
	 * neither picture twice. */
	gboolean group_pending;		/* the next chunk is the entry */
	Chunk *group_next;		/* this group's entry (a reference) */
	Chunk *last_entry;		/* of the newest keyframe's group */
	uint8_t pmt[TS_PACKET_SIZE];	/* the latest PMT as this lane has it */
	gboolean have_pmt;
} Lane;

struct Fanq {
	FanqLimits lim;
	TsTracker ts;
	Lane lane[TS_MAX_LAYERS];
	unsigned n_lanes;		/* 1 until a PMT names more layers */
	uint64_t in_packets;		/* whole packets taken */
	uint64_t group_in;		/* where the latest key group starts */
	gboolean last_start_key;	/* the last video PES was a keyframe */
	FanqLayerFunc layer_func;
	gpointer layer_data;
	FanqKeyframeFunc keyframe_func;
	gpointer keyframe_data;
	uint64_t keyframes, resync_bytes;
	uint64_t bytes_in;		/* everything pushed, garbage too */
	uint8_t pend[TS_PACKET_SIZE];	/* a packet cut by a read */
	size_t pend_len;
	gboolean synced;		/* the last packet was in step */
	gboolean finished;
	GBytes *trailer;		/* every consumer's last bytes */
	GPtrArray *consumers;
	GPtrArray *dead;		/* closed, freed when not busy */
	unsigned busy;			/* callbacks may run: defer frees */
	gboolean doomed;		/* fanq_free asked while busy */
};

struct FanqConsumer {
	Fanq *q;
	int fd;
	char *name;
	unsigned lane;			/* what it reads, once started */
	int want;			/* the lane asked for; -1: none */
	const char *want_reason;	/* why (an event's reason=) */
	uint64_t move_seq;		/* a keyframe after this one, */
	Chunk *move_to;			/* and then this one (a reference) */
	uint64_t sent_in;		/* input packets before it all sent */
	gint64 joined_us;		/* monotonic */
	int64_t pace_since;		/* stream clock: within max_lag/4 since */
	int64_t up_after;		/* ticks of pace before a move up */
	int64_t moved_up_at;		/* stream clock of the last move up */
	char line[32];			/* what it wrote ("layer N\n") */
	size_t line_len;
	GByteArray *pre;		/* sent before the stream position: */
	size_t pre_off;			/* prefix, PAT+PMT, end of a cut packet */
	Chunk *chunk;			/* position; NULL until started */
	size_t off;
	size_t trailer_off;		/* of q->trailer, sent */
	uint64_t join_in;		/* q->in_packets when it joined */
	gboolean asked;			/* it wrote "layer N" */
	unsigned skips;
	uint64_t bytes;
	/* Added to the continuity counter of every packet on the video PID
	 * since a move between layers, whose streams each count their own:
	 * to a demuxer the stream goes on with no packet lost. */
	uint8_t cc_delta;
	int8_t last_vcc;		/* the last one sent, -1: not known */
	GByteArray *fixed;		/* fixed_of's bytes with cc_delta added */
	Chunk *fixed_of;		/* a reference */
	int64_t caught_up;		/* stream clock when last drained */
	guint in_watch, out_watch, idle;
	gboolean dead;
	FanqGoneFunc gone;
	gpointer data;
};

static Chunk *
chunk_ref(Chunk *ch)
{
	ch->ref++;
	return ch;
}

/* Iterative, so a long chain does not recurse. */
static void
chunk_unref(Chunk *ch)
{
	while (ch != NULL && --ch->ref == 0) {
		Chunk *next = ch->next;

		free(ch->psi);
		free(ch);
		ch = next;
	}
}

static Chunk *
chunk_new(Fanq *q, size_t cap)
{
	Chunk *ch = malloc(sizeof(*ch) + cap);

	if (ch == NULL)
		g_error("out of memory for a %zu byte chunk", cap);
	ch->ref = 1;
	ch->next = NULL;
	ch->seq = 0;
	ch->offset = 0;
	ch->clock = q->ts.clock;
	ch->in_seq = ch->in_end = ch->group_in = q->in_packets;
	ch->keyframe = FALSE;
	ch->entry = FALSE;
	ch->psi = NULL;
	ch->first_vcc = ch->last_vcc = -1;
	ch->first_vpay = FALSE;
	ch->psi_len = 0;
	ch->len = 0;
	ch->cap = cap;
	return ch;
}

Fanq *
fanq_new(const FanqLimits *limits)
{
	Fanq *q = g_new0(Fanq, 1);

	q->lim.max_lag_ms = FANQ_DEFAULT_MAX_LAG_MS;
	q->lim.drop_after_ms = FANQ_DEFAULT_DROP_AFTER_MS;
	q->lim.max_backlog = FANQ_DEFAULT_MAX_BACKLOG;
	if (limits != NULL) {
		if (limits->max_lag_ms > 0)
			q->lim.max_lag_ms = limits->max_lag_ms;
		if (limits->drop_after_ms > 0)
			q->lim.drop_after_ms = limits->drop_after_ms;
		if (limits->max_backlog > 0)
			q->lim.max_backlog = limits->max_backlog;
	}
	ts_tracker_init(&q->ts);
	q->n_lanes = 1;
	for (unsigned i = 0; i < TS_MAX_LAYERS; i++)
		ts_layer_cut_init(&q->lane[i].cut, i);
	q->consumers = g_ptr_array_new();
	q->dead = g_ptr_array_new();
	return q;
}

static void
consumer_free(FanqConsumer *c)
{
	chunk_unref(c->chunk);
	chunk_unref(c->move_to);
	chunk_unref(c->fixed_of);
	g_byte_array_unref(c->pre);
	g_byte_array_unref(c->fixed);
	g_free(c->name);
	g_free(c);
}

/* Stops a consumer's I/O and closes its fd; the struct lives on in
 * q->dead until no callback can still be looking at it. */
static void
consumer_close(FanqConsumer *c, const char *reason, gboolean notify)
{
	Fanq *q = c->q;

	if (c->dead)
		return;
	c->dead = TRUE;
	if (c->in_watch)
		g_source_remove(c->in_watch);
	if (c->out_watch)
		g_source_remove(c->out_watch);
	if (c->idle)
		g_source_remove(c->idle);
	c->in_watch = c->out_watch = c->idle = 0;
	close(c->fd);
	c->fd = -1;
	g_ptr_array_remove(q->consumers, c);
	g_ptr_array_add(q->dead, c);
	if (notify && c->gone != NULL)
		c->gone(c, reason, c->data);
}

static void
really_free(Fanq *q)
{
	guint i;

	for (i = 0; i < q->dead->len; i++)
		consumer_free(q->dead->pdata[i]);
	g_ptr_array_unref(q->dead);
	g_ptr_array_unref(q->consumers);
	for (i = 0; i < TS_MAX_LAYERS; i++) {
		chunk_unref(q->lane[i].building);
		chunk_unref(q->lane[i].last_key);
		chunk_unref(q->lane[i].tail);
		chunk_unref(q->lane[i].group_next);
		chunk_unref(q->lane[i].last_entry);
	}
	if (q->trailer != NULL)
		g_bytes_unref(q->trailer);
	g_free(q);
}

static void
enter(Fanq *q)
{
	q->busy++;
}

/* Leaves a section where callbacks ran: frees what they let go. */
static void
leave(Fanq *q)
{
	if (--q->busy > 0)
		return;
	if (q->doomed) {
		really_free(q);
		return;
	}
	while (q->dead->len > 0)
		consumer_free(g_ptr_array_steal_index_fast(q->dead,
		    q->dead->len - 1));
}

void
fanq_free(Fanq *q)
{
	if (q == NULL)
		return;
	while (q->consumers->len > 0)
		consumer_close(q->consumers->pdata[0], NULL, FALSE);
	if (q->busy > 0)
		q->doomed = TRUE;
	else
		really_free(q);
}

static gboolean on_writable(int fd, GIOCondition cond, gpointer data);
static void move_if_due(FanqConsumer *c);

/* The trailer, once the stream is over and sent (0 or 1 iovec). */
static int
trailer_iov(FanqConsumer *c, struct iovec *iov)
{
	size_t len;
	const uint8_t *data;

	if (!c->q->finished || c->q->trailer == NULL)
		return 0;
	data = g_bytes_get_data(c->q->trailer, &len);
	if (c->trailer_off >= len)
		return 0;
	iov->iov_base = (void *)(data + c->trailer_off);
	iov->iov_len = len - c->trailer_off;
	return 1;
}

/* CH's bytes as the consumer gets them: shared by all, or after a move
 * between layers a copy of its own with the video PID's continuity
 * counters carried on (cc_delta). */
static const uint8_t *
consumer_bytes(FanqConsumer *c, Chunk *ch)
{
	int pid = c->q->ts.video_pid;

	if (c->cc_delta == 0)
		return ch->data;
	if (c->fixed_of != ch) {
		chunk_unref(c->fixed_of);
		c->fixed_of = chunk_ref(ch);
		g_byte_array_set_size(c->fixed, 0);
		g_byte_array_append(c->fixed, ch->data, ch->len);
		for (size_t i = 0; i + TS_PACKET_SIZE <= ch->len; i += TS_PACKET_SIZE) {
			uint8_t *p = c->fixed->data + i;

			if ((((p[1] & 0x1f) << 8) | p[2]) == pid)
				p[3] = (p[3] & 0xf0) | ((p[3] + c->cc_delta) & 0x0f);
		}
	}
	return c->fixed->data;
}

/* Bytes the consumer has not been sent yet, in stream order. */
static int
pending_iov(FanqConsumer *c, struct iovec *iov)
{
	int n = 0;
	Chunk *ch;
	size_t off;

	if (c->pre_off < c->pre->len) {
		iov[n].iov_base = c->pre->data + c->pre_off;
		iov[n].iov_len = c->pre->len - c->pre_off;
		n++;
	}
	for (ch = c->chunk, off = c->off; ch != NULL && n < MAX_IOV;
	    ch = ch->next, off = 0) {
		/* A move is wanted, but the lane it goes to has not shown
		 * this group's keyframe yet (it follows ours in the input):
		 * hold at our entry for a moment rather than send past it,
		 * or a consumer that keeps up would never find its place. */
		if (c->want >= 0 && c->move_to == NULL && ch->entry &&
		    (ch != c->chunk || off == 0) &&
		    c->q->ts.clock - ch->clock < MOVE_HOLD_MS * TICKS_PER_MS)
			return n;
		/* Nothing of this lane from where the move goes on. */
		if (c->move_to != NULL && ch != c->chunk &&
		    ch->in_seq >= c->move_to->group_in)
			return n;
		if (off < ch->len) {
			iov[n].iov_base = (void *)(consumer_bytes(c, ch) + off);
			iov[n].iov_len = ch->len - off;
			n++;
		}
		if (ch->next == NULL && n < MAX_IOV)
			n += trailer_iov(c, iov + n);
		if (c->cc_delta != 0 && off < ch->len)
			break;		/* one copy at a time */
	}
	if (c->chunk == NULL && n < MAX_IOV)
		n += trailer_iov(c, iov + n);
	return n;
}

static void
advance(FanqConsumer *c, size_t n)
{
	size_t take;

	if (c->pre_off < c->pre->len) {
		take = MIN(n, c->pre->len - c->pre_off);
		c->pre_off += take;
		n -= take;
		if (c->pre_off == c->pre->len) {
			g_byte_array_set_size(c->pre, 0);
			c->pre_off = 0;
		}
	}
	while (n > 0 && c->chunk != NULL) {
		take = MIN(n, c->chunk->len - c->off);
		c->off += take;
		c->bytes += take;
		n -= take;
		if (c->off == c->chunk->len && c->chunk->next != NULL) {
			Chunk *next = chunk_ref(c->chunk->next);

			if (c->chunk->last_vcc >= 0)
				c->last_vcc = (c->chunk->last_vcc + c->cc_delta) & 0x0f;
			c->sent_in = c->chunk->in_end;
			chunk_unref(c->chunk);
			c->chunk = next;
			c->off = 0;
			move_if_due(c);
		} else if (take == 0)
			break;		/* the rest is the trailer's */
	}
	c->trailer_off += n;
}

/* Writes what the consumer has pending, as far as its fd takes it. */
static void
flush(FanqConsumer *c)
{
	struct iovec iov[MAX_IOV];
	Fanq *q = c->q;

	while (!c->dead) {
		int n = pending_iov(c, iov);
		ssize_t w;

		if (n == 0)
			break;
		w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (c->out_watch == 0)
					c->out_watch = g_unix_fd_add(c->fd,
					    G_IO_OUT, on_writable, c);
				return;
			}
			consumer_close(c, errno == EPIPE || errno == ECONNRESET ?
			    "closed the connection" : g_strerror(errno), TRUE);
			return;
		}
		advance(c, (size_t)w);
	}
	if (c->dead)
		return;
	c->caught_up = q->ts.clock;
	if (c->out_watch) {
		g_source_remove(c->out_watch);
		c->out_watch = 0;
	}
	if (q->finished)
		consumer_close(c, NULL, TRUE);
}

static gboolean
on_writable(int fd, GIOCondition cond, gpointer data)
{
	FanqConsumer *c = data;
	Fanq *q = c->q;

	c->out_watch = 0;
	enter(q);
	flush(c);
	leave(q);
	return G_SOURCE_REMOVE;
}

/* A consumer of layers may write "layer N\n" (pp-fanout attach --layer);
 * anything else it writes is of no interest. */
static void
take_request(FanqConsumer *c, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned n;
		char end;

		if (buf[i] != '\n') {
			if (c->line_len < sizeof(c->line) - 1)
				c->line[c->line_len++] = buf[i];
			continue;
		}
		c->line[c->line_len] = '\0';
		c->line_len = 0;
		if (sscanf(c->line, "layer %u%c", &n, &end) == 1 &&
		    n < TS_MAX_LAYERS) {
			c->asked = TRUE;
			fanq_consumer_set_layer(c, n, "asked");
		}
	}
}

static gboolean
on_readable(int fd, GIOCondition cond, gpointer data)
{
	FanqConsumer *c = data;
	Fanq *q = c->q;
	char buf[4096];
	ssize_t r;

	/* Consumers have nothing to say once started; reading is how a
	 * consumer that leaves is noticed while nothing is being written. */
	r = read(fd, buf, sizeof(buf));
	if (r > 0)
		take_request(c, buf, r);
	if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
		return G_SOURCE_CONTINUE;
	c->in_watch = 0;
	enter(q);
	consumer_close(c, r == 0 || errno == ECONNRESET ?
	    "closed the connection" : g_strerror(errno), TRUE);
	leave(q);
	return G_SOURCE_REMOVE;
}

static void
said_layer(FanqConsumer *c, const char *reason)
{
	if (c->q->layer_func != NULL)
		c->q->layer_func(c, c->lane, reason, c->q->layer_data);
}

static void
start(FanqConsumer *c, unsigned lane, Chunk *key)
{
	Fanq *q = c->q;

	/* The PAT and PMT first: the keyframe is of no use to a demuxer
	 * that does not know the PIDs yet. */
	if (key->psi != NULL)
		g_byte_array_append(c->pre, key->psi, key->psi_len);
	c->chunk = chunk_ref(key);
	c->off = 0;
	c->cc_delta = 0;
	c->last_vcc = -1;
	c->lane = lane;
	c->pace_since = q->ts.clock;
	c->sent_in = key->in_seq;
	c->caught_up = q->ts.clock;
	if (c->want == (int)lane)
		c->want = -1;
	log_debug("%s starts at a keyframe %" G_GINT64_FORMAT " ms old",
	    c->name, ts_clock_ms(q->ts.clock - key->clock));
	if (q->n_lanes > 1) {
		log_info("%s starts on layer %u of %u", c->name, lane, q->n_lanes);
		said_layer(c, c->asked ? "asked" : "start");
	}
}

/* A move to another lane, at c->move_to, if the consumer stands where
 * it can go on there with nothing lost or sent twice: all this lane's
 * packets from before the keyframe sent, none from after. Chunks are
 * cut at every keyframe of every lane (take_packet), so that place is a
 * chunk boundary, and the input there is between two PES packets. */
static void
move_if_due(FanqConsumer *c)
{
	Chunk *k = c->move_to, *ch = c->chunk;
	uint64_t done, next;
	int last;

	if (k == NULL || ch == NULL)
		return;
	if (c->off == 0) {
		done = c->sent_in;
		next = ch->in_seq;
	} else if (c->off == ch->len) {
		done = ch->in_end;
		next = ch->next != NULL ? ch->next->in_seq : UINT64_MAX;
	} else
		return;			/* inside a chunk: later */
	if (done > k->group_in) {
		/* Already past it: the next keyframe, then. */
		c->move_seq = k->seq;
		chunk_unref(c->move_to);
		c->move_to = NULL;
		return;
	}
	if (next < k->group_in)
		return;
	/* The video PID's counter goes on from the last packet sent. */
	last = c->off == ch->len && ch->last_vcc >= 0 ?
	    (ch->last_vcc + c->cc_delta) & 0x0f : c->last_vcc;
	if (last >= 0 && k->first_vcc >= 0)
		c->cc_delta = (last + (k->first_vpay ? 1 : 0) - k->first_vcc) & 0x0f;
	chunk_unref(c->chunk);
	c->chunk = k;			/* move_to's reference */
	c->move_to = NULL;
	c->off = 0;
	c->sent_in = k->group_in;
	c->lane = c->want;
	c->want = -1;
	log_info("%s moves to layer %u (%s)", c->name, c->lane, c->want_reason);
	said_layer(c, c->want_reason);
}

/* How far behind the newest data the consumer's position is. */
static int64_t
lag_ticks(const FanqConsumer *c)
{
	const Chunk *ch = c->chunk;

	if (c->off == ch->len) {
		if (ch->next == NULL)
			return 0;
		ch = ch->next;
	}
	return c->q->ts.clock - ch->clock;
}

static void
skip_to_keyframe(FanqConsumer *c, int64_t lag)
{
	Fanq *q = c->q;
	size_t cut = c->off % TS_PACKET_SIZE;

	/* Finish the packet being written, or the stream would lose its
	 * framing. */
	if (cut != 0 && c->off < c->chunk->len) {
		size_t rest = TS_PACKET_SIZE - cut;

		g_byte_array_append(c->pre, c->chunk->data + c->off, rest);
		c->bytes += rest;
	}
	chunk_unref(c->chunk);
	c->chunk = chunk_ref(q->lane[c->lane].last_key);
	c->off = 0;
	c->last_vcc = -1;	/* a cut: the jump of the counters is true */
	c->sent_in = c->chunk->in_seq;
	c->skips++;
	log_info("%s is %" G_GINT64_FORMAT " ms behind: skipped to the latest keyframe (%u skips)",
	    c->name, ts_clock_ms(lag), c->skips);
}

/* A consumer of layers that has not asked for one yet gets this long to
 * ask (pp-fanout attach asks as it connects) before it starts on the
 * top layer. */
#define ASK_WAIT_US	(200 * G_TIME_SPAN_MILLISECOND)

/* The adaptation rule, for consumers of layers that did not ask for
 * one: a consumer more than half of max_lag behind moves a layer down
 * (before it would be skipped forward); one that stayed within a quarter
 * of it for up_after moves a layer up. up_after starts at UP_AFTER_MS
 * and doubles, up to UP_AFTER_MAX_MS, each time a consumer has to move
 * down again within twice up_after of moving up: a link that cannot
 * carry the upper layer is not tried again and again. */
#define UP_AFTER_MS	5000
#define UP_AFTER_MAX_MS	60000

static void
adapt(FanqConsumer *c, int64_t lag, int64_t max_lag)
{
	Fanq *q = c->q;
	int64_t now = q->ts.clock;

	if (q->n_lanes < 2 || c->asked)
		return;
	if (c->up_after == 0)
		c->up_after = (int64_t)UP_AFTER_MS * TICKS_PER_MS;
	if (lag > max_lag / 4)
		c->pace_since = now;
	if (c->want >= 0)
		return;			/* a move on its way */
	if (lag > max_lag / 2 && c->lane + 1 < q->n_lanes) {
		if (c->moved_up_at != 0 && now - c->moved_up_at < 2 * c->up_after)
			c->up_after = MIN(2 * c->up_after,
			    (int64_t)UP_AFTER_MAX_MS * TICKS_PER_MS);
		log_info("%s is %" G_GINT64_FORMAT " ms behind: to layer %u at its next keyframe",
		    c->name, ts_clock_ms(lag), c->lane + 1);
		fanq_consumer_set_layer(c, c->lane + 1, "lagging");
	} else if (c->lane > 0 && now - c->pace_since > c->up_after) {
		log_info("%s kept pace for %" G_GINT64_FORMAT " s: to layer %u at its next keyframe",
		    c->name, ts_clock_ms(c->up_after) / 1000, c->lane - 1);
		c->moved_up_at = now;
		c->pace_since = now;
		fanq_consumer_set_layer(c, c->lane - 1, "kept-pace");
	}
}

/* Further behind than max_lag with a move down on its way: the move is
 * the skip, into the other lane's newest entry. XXX: like any skip, it
 * cuts the picture being sent (a decoder says so once); the move down
 * at half of max_lag comes first when the lag grows by less than half
 * of max_lag in a keyframe interval. */
static gboolean
skip_to_move(FanqConsumer *c, int64_t lag)
{
	size_t cut = c->off % TS_PACKET_SIZE;

	if (c->move_to == NULL || c->move_to->in_seq <= c->chunk->in_end)
		return FALSE;
	if (cut != 0 && c->off < c->chunk->len) {
		size_t rest = TS_PACKET_SIZE - cut;

		g_byte_array_append(c->pre, c->chunk->data + c->off, rest);
		c->bytes += rest;
	}
	chunk_unref(c->chunk);
	c->chunk = c->move_to;
	c->move_to = NULL;
	c->off = 0;
	c->last_vcc = -1;	/* a cut, as above */
	c->sent_in = c->chunk->group_in;
	c->lane = c->want;
	c->want = -1;
	c->skips++;
	log_info("%s is %" G_GINT64_FORMAT " ms behind: skipped to layer %u (%s, %u skips)",
	    c->name, ts_clock_ms(lag), c->lane, c->want_reason, c->skips);
	said_layer(c, c->want_reason);
	return TRUE;
}

/* After new data: start, move, skip, drop or just write. */
static void
service(FanqConsumer *c)
{
	Fanq *q = c->q;
	int64_t lag, max_lag = (int64_t)q->lim.max_lag_ms * TICKS_PER_MS;
	Lane *ln;

	if (c->chunk == NULL) {
		unsigned lane = c->want >= 0 ? MIN((unsigned)c->want,
		    q->n_lanes - 1) : 0;

		c->caught_up = q->ts.clock;
		if (q->n_lanes > 1 && !c->asked &&
		    g_get_monotonic_time() - c->joined_us < ASK_WAIT_US)
			return;
		ln = &q->lane[lane];
		if (ln->last_key == NULL || (ln->last_key->in_seq < c->join_in &&
		    q->ts.clock - ln->last_key->clock > max_lag))
			return;	/* wait for the next keyframe */
		start(c, lane, ln->last_key);
	}
	if (c->want >= 0 && c->move_to == NULL && (unsigned)c->want < q->n_lanes) {
		Chunk *k = q->lane[c->want].last_entry;

		if (k != NULL && k->seq > c->move_seq)
			c->move_to = chunk_ref(k);
	}
	move_if_due(c);
	lag = lag_ticks(c);
	adapt(c, lag, max_lag);
	if (lag > max_lag && !skip_to_move(c, lag)) {
		ln = &q->lane[c->lane];
		if (ln->last_key != NULL && ln->last_key->seq > c->chunk->seq)
			skip_to_keyframe(c, lag);
	}
	ln = &q->lane[c->lane];
	if (q->ts.clock - c->caught_up >
	    (int64_t)q->lim.drop_after_ms * TICKS_PER_MS) {
		g_autofree char *why = g_strdup_printf("stayed behind for more than %u ms (%u skips)",
		    q->lim.drop_after_ms, c->skips);

		consumer_close(c, why, TRUE);
		return;
	}
	if (ln->bytes - (c->chunk->offset + c->off) > q->lim.max_backlog) {
		g_autofree char *why = g_strdup_printf("more than %zu bytes behind",
		    q->lim.max_backlog);

		consumer_close(c, why, TRUE);
		return;
	}
	flush(c);
}

static void
service_all(Fanq *q)
{
	GPtrArray *snap;
	guint i;

	if (q->consumers->len == 0)
		return;
	snap = g_ptr_array_copy(q->consumers, NULL, NULL);
	for (i = 0; i < snap->len; i++) {
		FanqConsumer *c = snap->pdata[i];

		if (c->dead)
			continue;
		if (q->finished && c->chunk == NULL && q->trailer == NULL)
			consumer_close(c, NULL, TRUE);
		else if (q->finished && c->chunk == NULL)
			flush(c);	/* the trailer, then EOF */
		else
			service(c);
	}
	g_ptr_array_unref(snap);
}

/* Makes the chunk being built visible to consumers. */
static void
seal_lane(Lane *ln)
{
	Chunk *ch = ln->building;

	ln->building = NULL;
	if (ch == NULL)
		return;
	if (ch->len == 0) {
		chunk_unref(ch);
		return;
	}
	ch->seq = ++ln->seq;
	ch->offset = ln->bytes;
	ln->bytes += ch->len;
	if (ln->tail != NULL) {
		Chunk *prev = ln->tail;

		prev->next = ch;		/* the previous chunk's reference */
		ln->tail = chunk_ref(ch);
		chunk_unref(prev);
	} else
		ln->tail = ch;
	if (ch->keyframe) {
		chunk_unref(ln->last_key);
		ln->last_key = chunk_ref(ch);
	}
}

static void
seal(Fanq *q)
{
	for (unsigned i = 0; i < q->n_lanes; i++)
		seal_lane(&q->lane[i]);
}

/* Adds one packet of the lane's stream; KEY: it starts a keyframe. */
static void
lane_take(Fanq *q, Lane *ln, const uint8_t *p, gboolean key, size_t room)
{
	if (ln->building != NULL && ln->building->len + TS_PACKET_SIZE >
	    ln->building->cap)
		seal_lane(ln);
	if (ln->building == NULL) {
		ln->building = chunk_new(q, MAX(room, TS_PACKET_SIZE) /
		    TS_PACKET_SIZE * TS_PACKET_SIZE);
		ln->building->keyframe = key;
		if (ln->group_pending) {
			ln->group_pending = FALSE;
			chunk_unref(ln->group_next);
			ln->group_next = chunk_ref(ln->building);
			ln->building->group_in = q->group_in;
			ln->building->entry = TRUE;
		}
		if (key && ln->group_next != NULL) {
			chunk_unref(ln->last_entry);
			ln->last_entry = chunk_ref(ln->group_next);
		}
		if (key && (q->ts.have_pat || ln->have_pmt)) {
			Chunk *ch = ln->building;

			/* As they were then: the latest ones, in step
			 * with the continuity counters that follow. */
			ch->psi = malloc(2 * TS_PACKET_SIZE);
			if (ch->psi == NULL)
				g_error("out of memory");
			if (q->ts.have_pat) {
				memcpy(ch->psi, q->ts.pat, TS_PACKET_SIZE);
				ch->psi_len += TS_PACKET_SIZE;
			}
			if (ln->have_pmt) {
				memcpy(ch->psi + ch->psi_len, ln->pmt, TS_PACKET_SIZE);
				ch->psi_len += TS_PACKET_SIZE;
			}
		}
	}
	if (q->ts.video_pid >= 0 && (((p[1] & 0x1f) << 8) | p[2]) == q->ts.video_pid) {
		Chunk *ch = ln->building;

		if (ch->first_vcc < 0) {
			ch->first_vcc = p[3] & 0x0f;
			ch->first_vpay = (p[3] & 0x10) != 0;
		}
		ch->last_vcc = p[3] & 0x0f;
	}
	memcpy(ln->building->data + ln->building->len, p, TS_PACKET_SIZE);
	ln->building->len += TS_PACKET_SIZE;
	ln->building->in_end = q->in_packets + 1;
}

static void
take_packet(Fanq *q, const uint8_t *p, size_t room)
{
	unsigned flags = ts_tracker_feed(&q->ts, p);
	gboolean key, any_key;
	uint8_t out[TS_PACKET_SIZE];

	if (flags & TS_FEED_INVALID)
		return;
	/* A stream with no video (sound only) can start anywhere. */
	key = (flags & TS_FEED_KEYFRAME) != 0 || (q->ts.have_pmt_info &&
	    !ts_tracker_has_video(&q->ts) && (flags & TS_FEED_PMT));
	any_key = key || (flags & TS_FEED_LAYER_KEYFRAME);
	if (key)
		q->keyframes++;
	if (q->ts.layers.n > q->n_lanes)
		q->n_lanes = q->ts.layers.n;
	if (flags & (TS_FEED_VIDEO_START | TS_FEED_LAYER_START)) {
		if (any_key && !q->last_start_key) {
			q->group_in = q->in_packets;
			for (unsigned i = 0; i < TS_MAX_LAYERS; i++)
				q->lane[i].group_pending = TRUE;
		}
		q->last_start_key = any_key;
	}
	/* Every lane is cut where any has a keyframe: where a consumer
	 * may move from one to another (move_if_due). */
	if (any_key)
		seal(q);
	if (q->n_lanes == 1) {
		if (flags & TS_FEED_PMT) {
			memcpy(q->lane[0].pmt, p, TS_PACKET_SIZE);
			q->lane[0].have_pmt = TRUE;
		}
		lane_take(q, &q->lane[0], p, key, room);
	} else {
		for (unsigned i = 0; i < q->n_lanes; i++) {
			Lane *ln = &q->lane[i];
			gboolean k = i == 0 ? key :
			    (flags & TS_FEED_LAYER_KEYFRAME) &&
			    q->ts.feed_layer == i;

			if (!ts_layer_cut(&ln->cut, &q->ts, p, out))
				continue;
			if (flags & TS_FEED_PMT) {
				memcpy(ln->pmt, out, TS_PACKET_SIZE);
				ln->have_pmt = TRUE;
			}
			lane_take(q, ln, out, k, room);
		}
	}
	q->in_packets++;
}

/* Whole packets out of bytes in any pieces. In step with the stream, a
 * sync byte where the next packet should start is enough; after garbage,
 * a candidate needs a second sync byte a packet later before it counts,
 * even if that means waiting for the next read. */
void
fanq_push(Fanq *q, const uint8_t *data, size_t len)
{
	if (q->finished)
		return;
	q->bytes_in += len;
	enter(q);
	while (len > 0) {
		size_t n;

		if (q->pend_len > 0) {
			n = MIN(TS_PACKET_SIZE - q->pend_len, len);
			memcpy(q->pend + q->pend_len, data, n);
			q->pend_len += n;
			data += n;
			len -= n;
			if (q->pend_len < TS_PACKET_SIZE)
				break;
			if (!q->synced && len == 0)
				break;	/* to be confirmed by the next byte */
			if (q->synced || data[0] == TS_SYNC_BYTE) {
				q->pend_len = 0;
				q->synced = TRUE;
				take_packet(q, q->pend, len + TS_PACKET_SIZE);
				continue;
			}
			/* False start: look again after its first byte. */
			n = 1 + ts_find_sync(q->pend + 1, TS_PACKET_SIZE - 1);
			q->resync_bytes += n;
			memmove(q->pend, q->pend + n, TS_PACKET_SIZE - n);
			q->pend_len = TS_PACKET_SIZE - n;
			continue;
		}
		if (data[0] != TS_SYNC_BYTE || (!q->synced &&
		    len > TS_PACKET_SIZE && data[TS_PACKET_SIZE] != TS_SYNC_BYTE)) {
			n = data[0] == TS_SYNC_BYTE ? 1 : 0;
			n += ts_find_sync(data + n, len - n);
			q->resync_bytes += n;
			q->synced = FALSE;
			data += n;
			len -= n;
			continue;
		}
		if (len < TS_PACKET_SIZE || (!q->synced && len == TS_PACKET_SIZE)) {
			memcpy(q->pend, data, len);
			q->pend_len = len;
			break;
		}
		q->synced = TRUE;
		take_packet(q, data, len);
		data += TS_PACKET_SIZE;
		len -= TS_PACKET_SIZE;
	}
	seal(q);
	/* The newest keyframe is for newcomers; an old one would start them
	 * late, so it need not be kept (nor all that follows it). */
	for (unsigned i = 0; i < q->n_lanes; i++) {
		Lane *ln = &q->lane[i];

		if (ln->last_key != NULL && q->ts.clock - ln->last_key->clock >
		    (int64_t)q->lim.drop_after_ms * TICKS_PER_MS) {
			chunk_unref(ln->last_key);
			ln->last_key = NULL;
		}
		if (ln->last_entry != NULL && q->ts.clock -
		    ln->last_entry->clock > (int64_t)q->lim.drop_after_ms *
		    TICKS_PER_MS) {
			chunk_unref(ln->last_entry);
			ln->last_entry = NULL;
			chunk_unref(ln->group_next);
			ln->group_next = NULL;
		}
	}
	service_all(q);
	leave(q);
}

int
fanq_read_fd(Fanq *q, int fd)
{
	static uint8_t buf[1 << 16];	/* the tools read on one thread */
	ssize_t r = read(fd, buf, sizeof(buf));

	if (r > 0) {
		fanq_push(q, buf, r);
		return 1;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == 0)
		errno = 0;
	return -1;
}

void
fanq_finish_with(Fanq *q, const void *trailer, size_t len)
{
	if (q->finished)
		return;
	if (trailer != NULL && len > 0)
		q->trailer = g_bytes_new(trailer, len);
	fanq_finish(q);
}

void
fanq_finish(Fanq *q)
{
	if (q->finished)
		return;
	enter(q);
	seal(q);
	q->finished = TRUE;
	q->pend_len = 0;
	service_all(q);
	leave(q);
}

gboolean
fanq_finished(const Fanq *q)
{
	return q->finished;
}

static gboolean
on_idle_start(gpointer data)
{
	FanqConsumer *c = data;
	Fanq *q = c->q;

	c->idle = 0;
	enter(q);
	if (q->finished && c->chunk == NULL && q->trailer == NULL)
		consumer_close(c, NULL, TRUE);
	else if (q->finished && c->chunk == NULL)
		flush(c);
	else
		service(c);
	leave(q);
	return G_SOURCE_REMOVE;
}

FanqConsumer *
fanq_add(Fanq *q, int fd, const char *name, const void *prefix,
    size_t prefix_len, FanqGoneFunc gone, gpointer data)
{
	FanqConsumer *c = g_new0(FanqConsumer, 1);

	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	c->q = q;
	c->fd = fd;
	c->name = g_strdup(name);
	c->pre = g_byte_array_new();
	c->fixed = g_byte_array_new();
	c->last_vcc = -1;
	if (prefix != NULL)
		g_byte_array_append(c->pre, prefix, prefix_len);
	c->join_in = q->in_packets;
	c->joined_us = g_get_monotonic_time();
	c->want = -1;
	c->caught_up = q->ts.clock;
	c->gone = gone;
	c->data = data;
	g_ptr_array_add(q->consumers, c);
	c->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
	    on_readable, c);
	/* Started from the main loop, so that no callback runs from here. */
	c->idle = g_idle_add(on_idle_start, c);
	return c;
}

void
fanq_remove(FanqConsumer *c)
{
	Fanq *q = c->q;

	enter(q);
	consumer_close(c, NULL, FALSE);
	leave(q);
}

unsigned
fanq_count(const Fanq *q)
{
	return q->consumers->len;
}

int64_t
fanq_clock_ms(const Fanq *q)
{
	return ts_clock_ms(q->ts.clock);
}

uint64_t
fanq_packets(const Fanq *q)
{
	return q->ts.packets;
}

uint64_t
fanq_keyframes(const Fanq *q)
{
	return q->keyframes;
}

uint64_t
fanq_bytes_in(const Fanq *q)
{
	return q->bytes_in;
}

const char *
fanq_consumer_name(const FanqConsumer *c)
{
	return c->name;
}

unsigned
fanq_consumer_skips(const FanqConsumer *c)
{
	return c->skips;
}

uint64_t
fanq_consumer_bytes(const FanqConsumer *c)
{
	return c->bytes;
}

gboolean
fanq_consumer_started(const FanqConsumer *c)
{
	return c->chunk != NULL;
}

void
fanq_set_layer_func(Fanq *q, FanqLayerFunc func, gpointer data)
{
	q->layer_func = func;
	q->layer_data = data;
}

void
fanq_set_keyframe_func(Fanq *q, FanqKeyframeFunc func, gpointer data)
{
	q->keyframe_func = func;
	q->keyframe_data = data;
}

unsigned
fanq_layers(const Fanq *q)
{
	return q->n_lanes;
}

void
fanq_consumer_set_layer(FanqConsumer *c, unsigned layer, const char *reason)
{
	if (c->chunk != NULL && layer == c->lane) {
		c->want = -1;	/* stays */
		chunk_unref(c->move_to);
		c->move_to = NULL;
		return;
	}
	if (c->want == (int)layer)
		return;
	c->want = layer;
	c->want_reason = reason;
	c->move_seq = 0;
	chunk_unref(c->move_to);
	c->move_to = NULL;
	if (c->chunk != NULL && c->q->keyframe_func != NULL)
		c->q->keyframe_func(c->q->keyframe_data);
}

unsigned
fanq_consumer_layer(const FanqConsumer *c)
{
	return c->lane;
}
