/* pp-publish: the MPEG-TS on stdin to a media server (nginx-rtmp,
 * MediaMTX, SRS, a platform's ingest), as it is: RTMP(S) gets the same
 * H.264 and AAC remuxed into FLV, SRT gets the TS itself. The server
 * being down or refusing is not fatal: it is retried with backoff while
 * stdin goes on being read, so that the feeder (pp-fanout) never waits
 * on a server that is not there. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>

#include "log.h"
#include "mediagst.h"
#include "mediaurl.h"
#include "opt.h"
#include "status.h"
#include "ts.h"

static const char *passphrase;		/* --passphrase: SRT's */
static const char *streamid;		/* --streamid: SRT's */
static const char *ca_file;		/* --ca-file: rtmps trusts only it */
static const char *url;			/* the argument */

static const char usage_text[] =
    "usage: pp-publish [--passphrase s] [--streamid id] [--ca-file f]\n"
    "                  [--status-fd n] [--verbose] url\n"
    "       pp-publish --help | --version\n";

/* Backoff between attempts: doubles from the first to the last, and
 * starts again from the first after a connection that worked. */
#define RETRY_FIRST_S 1
#define RETRY_MAX_S 30
/* What waits in the pipeline's input, at most: about 2 s of a 6 Mbit/s
 * stream. Connected, more than this stops the reading of stdin (a slow
 * server is then skipped forward by pp-fanout like a slow viewer); not
 * yet connected, input beyond it is thrown away. */
#define QUEUE_MAX_BYTES (1536 * 1024)
/* How long the end of the stream may take to reach the server on EOF or
 * SIGTERM before pp-publish exits anyway. */
#define DRAIN_S 5
#define READ_SIZE (TS_PACKET_SIZE * 348)

enum scheme { SCHEME_RTMP, SCHEME_SRT };

/* One connection's life. */
enum conn {
	CONN_WAITING,		/* no pipeline; a retry is scheduled */
	CONN_CONNECTING,	/* a pipeline, nothing delivered yet */
	CONN_CONNECTED,		/* the sink has delivered a buffer */
	CONN_DRAINING,		/* EOS sent, waiting for it to get out */
};

static struct {
	GMainLoop *loop;
	enum scheme scheme;
	char *shown;		/* the URL with its secrets redacted */
	enum conn conn;
	GstElement *pipe, *src, *sink;
	guint poll_timer, bus_watch, retry_timer, drain_timer, stdin_watch, resume_timer;
	guint delay_s;		/* the next retry's */
	gboolean eof;		/* stdin ended, or SIGTERM */
	gboolean gated;		/* waiting for a keyframe to start at */
	TsTracker ts;
	guint8 partial[TS_PACKET_SIZE];
	size_t npartial;
	int status;
} P = { .status = EX_SOFTWARE, .delay_s = RETRY_FIRST_S };

static const MediaElement elements[] = {
	{ NULL, "appsrc", "gstreamer1.0-plugins-base" },
	{ "rtmp", "queue", "libgstreamer1.0-0" },
	{ "rtmp", "tsdemux", "gstreamer1.0-plugins-bad" },
	{ "rtmp", "h264parse", "gstreamer1.0-plugins-bad" },
	{ "rtmp", "aacparse", "gstreamer1.0-plugins-good" },
	{ "rtmp", "flvmux", "gstreamer1.0-plugins-good" },
	{ "rtmp", "rtmp2sink", "gstreamer1.0-plugins-bad" },
	{ "srt", "srtsink", "gstreamer1.0-plugins-bad" },
};

/* msg with every secret pp-publish knows replaced by "***". */
static char *
scrub(const char *msg)
{
	const char *const secrets[] = { passphrase, streamid };

	return media_url_scrub(msg, url, P.shown, secrets, G_N_ELEMENTS(secrets));
}

static void start_attempt(void);
static gboolean cb_stdin(int fd, GIOCondition cond, gpointer data);

static void
stdin_watch(gboolean on)
{
	if (on && P.stdin_watch == 0 && !P.eof)
		P.stdin_watch = g_unix_fd_add(STDIN_FILENO,
		    G_IO_IN | G_IO_HUP | G_IO_ERR, cb_stdin, NULL);
	else if (!on && P.stdin_watch != 0) {
		g_source_remove(P.stdin_watch);
		P.stdin_watch = 0;
	}
}

static void
clear_source(guint *id)
{
	if (*id != 0)
		g_source_remove(*id);
	*id = 0;
}

static void
pipeline_free(void)
{
	clear_source(&P.bus_watch);
	clear_source(&P.drain_timer);
	clear_source(&P.poll_timer);
	if (P.pipe != NULL) {
		gst_element_set_state(P.pipe, GST_STATE_NULL);
		gst_object_unref(P.pipe);
	}
	P.pipe = P.src = P.sink = NULL;
}

static gboolean
cb_retry(gpointer data)
{
	P.retry_timer = 0;
	start_attempt();
	return G_SOURCE_REMOVE;
}

/* The attempt failed or the connection ended: why, and the next try. */
static void
disconnected(const char *why)
{
	gboolean was = P.conn == CONN_CONNECTED;
	g_autofree char *clean = scrub(why);
	char in_s[16];

	pipeline_free();
	P.conn = CONN_WAITING;
	stdin_watch(TRUE);
	clear_source(&P.resume_timer);
	if (was)
		P.delay_s = RETRY_FIRST_S;
	/* The line first: a reader of the events finds it in the log. */
	if (P.eof)
		warnx("%s: %s", P.shown, clean);
	else
		warnx("%s: %s; retrying in %u s", P.shown, clean, P.delay_s);
	status_event("disconnected", "reason", clean, "was_connected",
	    was ? "1" : "0", NULL);
	if (P.eof) {
		/* stopping anyway: the server going too is not a failure */
		P.status = 0;
		g_main_loop_quit(P.loop);
		return;
	}
	snprintf(in_s, sizeof in_s, "%u", P.delay_s);
	status_event("retry", "in_s", in_s, NULL);
	P.retry_timer = g_timeout_add_seconds(P.delay_s, cb_retry, NULL);
	P.delay_s = MIN(P.delay_s * 2, RETRY_MAX_S);
}

/* Has the server taken the stream? Neither sink says so by a message:
 * rtmp2sink queues buffers while it connects and publishes, and its
 * statistics stay zero until the server answered the publish; srtsink's
 * count what the handshake's peer acknowledged. */
static gboolean
sink_connected(GstElement *sink)
{
	g_autoptr(GstStructure) st = NULL;
	guint64 n = 0;

	g_object_get(sink, "stats", &st, NULL);
	if (st == NULL)
		return FALSE;
	if (P.scheme == SCHEME_RTMP)
		gst_structure_get_uint64(st, "in-bytes-total", &n);
	else if (!gst_structure_get_uint64(st, "bytes-sent-total", &n)) {
		gint64 s = 0;

		if (gst_structure_get_int64(st, "bytes-sent-total", &s))
			n = s;
	}
	return n > 0;
}

static gboolean
cb_poll_connected(gpointer data)
{
	if (P.conn != CONN_CONNECTING || !sink_connected(P.sink))
		return G_SOURCE_CONTINUE;
	P.poll_timer = 0;
	P.conn = CONN_CONNECTED;
	warnx("connected to %s", P.shown);
	status_event("connected", "url", P.shown, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
cb_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ERROR: {
		g_autofree char *why = mediagst_error_text(msg);

		disconnected(why);
		return G_SOURCE_REMOVE;
	}
	case GST_MESSAGE_EOS:
		if (P.conn != CONN_DRAINING) {
			disconnected("the stream ended");
			return G_SOURCE_REMOVE;
		}
		P.status = 0;
		g_main_loop_quit(P.loop);
		break;
	default:
		break;
	}
	return G_SOURCE_CONTINUE;
}

/* tsdemux's streams: video and audio each through their parser into
 * flvmux; anything else (private data) is left unlinked. */
static void
cb_demux_pad(GstElement *demux, GstPad *pad, gpointer data)
{
	GstElement *mux = data, *q, *parse;
	const char *name = GST_PAD_NAME(pad);
	gboolean video = g_str_has_prefix(name, "video");
	GstPad *sinkpad;

	if (!video && !g_str_has_prefix(name, "audio"))
		return;
	q = gst_element_factory_make("queue", NULL);
	parse = gst_element_factory_make(video ? "h264parse" : "aacparse", NULL);
	gst_bin_add_many(GST_BIN(P.pipe), q, parse, NULL);
	gst_element_link(q, parse);
	sinkpad = gst_element_get_static_pad(q, "sink");
	gst_pad_link(pad, sinkpad);
	gst_object_unref(sinkpad);
	if (!gst_element_link_pads(parse, "src", mux, video ? "video" : "audio"))
		warnx("tsdemux's %s could not be muxed into FLV", name);
	gst_element_sync_state_with_parent(parse);
	gst_element_sync_state_with_parent(q);
}

static void
start_attempt(void)
{
	g_autoptr(GstCaps) caps = gst_caps_from_string(
	    "video/mpegts, systemstream=(boolean)true, packetsize=(int)188");
	GstElement *sink;
	GstBus *bus;

	P.pipe = gst_pipeline_new("publish");
	P.src = mediagst_make("appsrc");
	g_object_set(P.src, "caps", caps, "format", GST_FORMAT_BYTES,
	    "max-bytes", (guint64)QUEUE_MAX_BYTES * 2, "block", FALSE, NULL);
	if (P.scheme == SCHEME_SRT) {
		sink = mediagst_make("srtsink");
		g_object_set(sink, "uri", url, "auto-reconnect", FALSE, NULL);
		if (passphrase != NULL)
			g_object_set(sink, "passphrase", passphrase, NULL);
		if (streamid != NULL)
			g_object_set(sink, "streamid", streamid, NULL);
		gst_bin_add_many(GST_BIN(P.pipe), P.src, sink, NULL);
		gst_element_link(P.src, sink);
	} else {
		GstElement *demux = mediagst_make("tsdemux"), *mux = mediagst_make("flvmux");

		sink = mediagst_make("rtmp2sink");
		g_object_set(mux, "streamable", TRUE, NULL);
		g_object_set(sink, "location", url, "async-connect", FALSE, NULL);
		gst_bin_add_many(GST_BIN(P.pipe), P.src, demux, mux, sink, NULL);
		gst_element_link(P.src, demux);
		gst_element_link(mux, sink);
		g_signal_connect(demux, "pad-added", G_CALLBACK(cb_demux_pad), mux);
	}
	/* Sent as fast as it comes: stdin is live already. */
	g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
	P.sink = sink;
	P.poll_timer = g_timeout_add(100, cb_poll_connected, NULL);

	bus = gst_element_get_bus(P.pipe);
	P.bus_watch = gst_bus_add_watch(bus, cb_bus, NULL);
	gst_object_unref(bus);
	P.conn = CONN_CONNECTING;
	P.gated = TRUE;
	log_debug("connecting to %s", P.shown);
	if (gst_element_set_state(P.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE &&
	    P.bus_watch != 0) {
		/* the error message on the bus says why; if there is none */
		g_autoptr(GstMessage) m = gst_bus_pop_filtered(GST_ELEMENT_BUS(P.pipe),
		    GST_MESSAGE_ERROR);

		if (m != NULL)
			cb_bus(NULL, m, NULL);
		else
			disconnected("the pipeline did not start");
	}
}

static void
push(const guint8 *data, size_t len)
{
	GstBuffer *b = gst_buffer_new_memdup(data, len);

	gst_app_src_push_buffer(GST_APP_SRC(P.src), b);
}

/* One whole packet of stdin: tracked always (for the PAT, PMT and
 * keyframes), sent while there is a pipeline, from a keyframe on. */
static void
packet(const guint8 *p)
{
	unsigned bits = ts_tracker_feed(&P.ts, p);

	if (P.src == NULL || P.conn == CONN_DRAINING)
		return;
	if (P.gated) {
		/* A newcomer at a keyframe, the PAT and PMT first, as
		 * pp-fanout starts its consumers. */
		if (!ts_tracker_can_start(&P.ts, bits))
			return;
		push(P.ts.pat, TS_PACKET_SIZE);
		push(P.ts.pmt, TS_PACKET_SIZE);
		P.gated = FALSE;
	}
	push(p, TS_PACKET_SIZE);
}

static void
finish(void)
{
	P.eof = TRUE;
	stdin_watch(FALSE);
	clear_source(&P.retry_timer);
	clear_source(&P.resume_timer);
	if (P.conn != CONN_CONNECTED) {
		/* nothing on its way to a server: done */
		P.status = 0;
		g_main_loop_quit(P.loop);
		return;
	}
	P.conn = CONN_DRAINING;
	gst_app_src_end_of_stream(GST_APP_SRC(P.src));
}

static gboolean
cb_drain_late(gpointer data)
{
	P.drain_timer = 0;
	warnx("%s: the end of the stream did not get out in %d s", P.shown, DRAIN_S);
	P.status = 0;
	g_main_loop_quit(P.loop);
	return G_SOURCE_REMOVE;
}

static gboolean
cb_resume(gpointer data)
{
	if (P.src != NULL &&
	    gst_app_src_get_current_level_bytes(GST_APP_SRC(P.src)) > QUEUE_MAX_BYTES)
		return G_SOURCE_CONTINUE;
	P.resume_timer = 0;
	stdin_watch(TRUE);
	return G_SOURCE_REMOVE;
}

static gboolean
cb_stdin(int fd, GIOCondition cond, gpointer data)
{
	guint8 buf[READ_SIZE];
	ssize_t n = read(fd, buf, sizeof buf);
	size_t i = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		if (n < 0)
			warn("stdin");
		P.stdin_watch = 0;
		finish();
		if (P.conn == CONN_DRAINING)
			P.drain_timer = g_timeout_add_seconds(DRAIN_S, cb_drain_late, NULL);
		return G_SOURCE_REMOVE;
	}
	if (P.src != NULL &&
	    gst_app_src_get_current_level_bytes(GST_APP_SRC(P.src)) > QUEUE_MAX_BYTES) {
		if (P.conn == CONN_CONNECTED) {
			/* the server is slow: the feeder waits (and skips) */
			P.stdin_watch = 0;
			P.resume_timer = g_timeout_add(20, cb_resume, NULL);
			/* this read's bytes are lost; the gate restarts */
			P.gated = TRUE;
			P.npartial = 0;
			return G_SOURCE_REMOVE;
		}
		P.gated = TRUE;	/* still connecting: from a later keyframe */
	}
	if (P.npartial > 0) {
		size_t take = MIN(TS_PACKET_SIZE - P.npartial, (size_t)n);

		memcpy(P.partial + P.npartial, buf, take);
		P.npartial += take;
		i = take;
		if (P.npartial == TS_PACKET_SIZE) {
			packet(P.partial);
			P.npartial = 0;
		}
	}
	while (i < (size_t)n) {
		if (buf[i] != TS_SYNC_BYTE) {	/* lost sync: find it again */
			i += ts_find_sync(buf + i, n - i);
			continue;
		}
		if (n - i < TS_PACKET_SIZE) {
			memcpy(P.partial, buf + i, n - i);
			P.npartial = n - i;
			break;
		}
		packet(buf + i);
		i += TS_PACKET_SIZE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
cb_signal(gpointer data)
{
	log_debug("signal %d: stopping", GPOINTER_TO_INT(data));
	if (P.eof) {	/* a second one: now */
		P.status = 0;
		g_main_loop_quit(P.loop);
		return G_SOURCE_CONTINUE;
	}
	finish();
	if (P.conn == CONN_DRAINING)
		P.drain_timer = g_timeout_add_seconds(DRAIN_S, cb_drain_late, NULL);
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "passphrase",	required_argument, NULL, 'p' },
		{ "streamid",	required_argument, NULL, 's' },
		{ "ca-file",	required_argument, NULL, 'c' },
		{ "status-fd",	required_argument, NULL, 'S' },
		{ "verbose",	no_argument,	NULL, 'v' },
		OPT_HELP_VERSION,
		{ NULL,		0,		NULL, 0 }
	};
	int ch;

	log_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			passphrase = optarg;
			break;
		case 's':
			streamid = optarg;
			break;
		case 'c':
			ca_file = optarg;
			break;
		case 'S':
			status_open(optarg);
			break;
		case 'v':
			log_set_verbose(TRUE);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, "h", longopts);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		opt_usage(usage_text, EX_USAGE);
	url = argv[0];

	if (g_str_has_prefix(url, "rtmp://") || g_str_has_prefix(url, "rtmps://"))
		P.scheme = SCHEME_RTMP;
	else if (g_str_has_prefix(url, "srt://"))
		P.scheme = SCHEME_SRT;
	else
		errx(EX_UNAVAILABLE, "%.*s: not a URL pp-publish sends to (rtmp://, rtmps:// or srt://)",
		    (int)strcspn(url, ":"), url);
	P.shown = media_url_redact(url);
	if (P.scheme == SCHEME_RTMP && (passphrase != NULL || streamid != NULL))
		errx(EX_USAGE, "--passphrase and --streamid are SRT's; an RTMP URL carries its key in its path");
	if (ca_file != NULL && !g_str_has_prefix(url, "rtmps://"))
		errx(EX_USAGE, "--ca-file is for rtmps:// URLs");

	gst_init(NULL, NULL);
	mediagst_require(elements, G_N_ELEMENTS(elements),
	    P.scheme == SCHEME_RTMP ? "rtmp" : "srt");
	if (ca_file != NULL) {
		g_autoptr(GError) e = NULL;

		if (!media_url_trust_only(ca_file, &e))
			errx(EX_NOINPUT, "%s: %s", ca_file, e->message);
	}
	if (fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK) == -1)
		err(EX_OSERR, "stdin");
	ts_tracker_init(&P.ts);

	P.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, cb_signal, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, cb_signal, GINT_TO_POINTER(SIGINT));
	stdin_watch(TRUE);
	start_attempt();
	g_main_loop_run(P.loop);

	stdin_watch(FALSE);
	clear_source(&P.retry_timer);
	clear_source(&P.resume_timer);
	pipeline_free();
	g_main_loop_unref(P.loop);
	g_free(P.shown);
	gst_deinit();
	return P.status;
}
