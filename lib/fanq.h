/* One MPEG-TS stream, many consumers: the queue pp-fanout and pp-bridge
 * share. The stream is cut into refcounted chunks of whole packets, each
 * stored once however many consumers read it; a keyframe always starts a
 * chunk. Each consumer is a non-blocking fd: it gets the latest PAT and
 * PMT, then the stream from a keyframe. One that falls more than
 * max_lag_ms of stream behind skips to the latest keyframe (counted); one
 * that has not caught up for drop_after_ms is dropped. Writes never block,
 * so a slow consumer slows nobody else. Runs on the default main context. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Fanq Fanq;
typedef struct FanqConsumer FanqConsumer;

typedef struct {
	unsigned max_lag_ms;		/* default 500 */
	unsigned drop_after_ms;		/* default 10000 */
	size_t max_backlog;		/* bytes, for streams with no clock */
} FanqLimits;

#define FANQ_DEFAULT_MAX_LAG_MS		500
#define FANQ_DEFAULT_DROP_AFTER_MS	10000
#define FANQ_DEFAULT_MAX_BACKLOG	(64u << 20)

/* Called when a consumer of a stream with layers starts on one (reason
 * "start", or "asked") or moves to another (the reason it was asked
 * with). */
typedef void (*FanqLayerFunc)(FanqConsumer *c, unsigned layer,
    const char *reason, gpointer data);

/* Called once when a consumer is over: reason is NULL when it got the
 * whole stream (end of stream, then EOF), else why it was let go. Its fd
 * is closed and the consumer freed right after. */
typedef void (*FanqGoneFunc)(FanqConsumer *c, const char *reason, gpointer data);

Fanq *fanq_new(const FanqLimits *limits);	/* NULL: the defaults */
/* Frees the queue; its consumers are closed without a callback. */
void fanq_free(Fanq *q);

/* Stream bytes as they come, in any pieces: split into packets here
 * (resynchronising on the sync byte after garbage). */
void fanq_push(Fanq *q, const uint8_t *data, size_t len);
/* Reads what fd has now and pushes it: 1 when bytes came, 0 when there
 * are none yet (EAGAIN, EINTR), -1 at the end of the stream, with errno
 * set for a read error and 0 for end of file. */
int fanq_read_fd(Fanq *q, int fd);
/* End of stream: each consumer gets what it still has, then EOF. */
void fanq_finish(Fanq *q);
/* The same, with trailer as every consumer's last bytes before EOF, also
 * of one that had not started yet (pp-fanout's event packet). */
void fanq_finish_with(Fanq *q, const void *trailer, size_t len);
gboolean fanq_finished(const Fanq *q);

/* A consumer on fd (made non-blocking; the queue owns it from now on).
 * prefix (may be NULL) is written before the stream, e.g. an HTTP
 * response header. name appears in the log lines. */
FanqConsumer *fanq_add(Fanq *q, int fd, const char *name, const void *prefix,
    size_t prefix_len, FanqGoneFunc gone, gpointer data);
/* Closes a consumer now (no callback). */
void fanq_remove(FanqConsumer *c);

unsigned fanq_count(const Fanq *q);
/* The stream clock in ms (see ts.h), and whole packets taken so far. */
int64_t fanq_clock_ms(const Fanq *q);
uint64_t fanq_packets(const Fanq *q);
uint64_t fanq_keyframes(const Fanq *q);
/* Every byte pushed, garbage included. */
uint64_t fanq_bytes_in(const Fanq *q);

const char *fanq_consumer_name(const FanqConsumer *c);
unsigned fanq_consumer_skips(const FanqConsumer *c);
uint64_t fanq_consumer_bytes(const FanqConsumer *c);	/* stream bytes sent */
gboolean fanq_consumer_started(const FanqConsumer *c);

/* Layers (ts.h): a stream whose PMT names N video streams is served as
 * N plain streams, one per layer, each stored once; a consumer reads
 * one. It starts on the top layer (0), or on the one it asks for by
 * writing "layer N\n" within 200 ms of joining (pp-fanout attach
 * --layer). A consumer moves to another layer at a keyframe of that
 * layer, where nothing of either stream is lost or sent twice, the video
PID's continuity counter carried on from the layer it left. One that
 * did not ask moves down when it falls behind and up when it keeps pace
 * (adapt() in fanq.c, pp-fanout(1)). */
void fanq_set_layer_func(Fanq *q, FanqLayerFunc func, gpointer data);
/* Called when a consumer is to move to another layer: it waits for that
 * layer's next keyframe, which a producer that makes one on request
 * (pp-encode on SIGUSR1) can send at once rather than a keyframe
 * interval later, while the consumer falls further behind. */
typedef void (*FanqKeyframeFunc)(gpointer data);
void fanq_set_keyframe_func(Fanq *q, FanqKeyframeFunc func, gpointer data);
unsigned fanq_layers(const Fanq *q);	/* 1 for a stream without */
/* Asks for a move (REASON: a static string, said with it); to the
 * layer the consumer is on, it cancels one not yet made. */
void fanq_consumer_set_layer(FanqConsumer *c, unsigned layer,
    const char *reason);
unsigned fanq_consumer_layer(const FanqConsumer *c);
