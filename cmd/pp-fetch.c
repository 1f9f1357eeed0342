/* pp-fetch: a stream published to a media server, read back as MPEG-TS on
 * stdout, the way pp-view and pp-bridge take a host's stream: what
 * `pixelpass URL` plays. RTMP(S) and HLS with MP4 fragments are remuxed
 * (H.264 and AAC, no second encode); a TS (SRT, HLS of TS segments, TS
 * over HTTP) goes out byte for byte, pp-encode's clock included. */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>

#include "log.h"
#include "mediagst.h"
#include "mediaurl.h"
#include "opt.h"
#include "status.h"
#include "ts.h"

static const char *passphrase;		/* --passphrase: SRT's */
static const char *streamid;		/* --streamid: SRT's */
static const char *ca_file;		/* --ca-file */
static const char *url;			/* the argument */

static const char usage_text[] =
    "usage: pp-fetch [--passphrase s] [--streamid id] [--ca-file f]\n"
    "                [--status-fd n] [--verbose] url\n"
    "       pp-fetch --help | --version\n";

/* A server that takes the connection but sends nothing (nginx-rtmp
 * holds a player of a stream nobody publishes) is given this long. */
#define FIRST_DATA_S 10
/* How long a remuxed input's other streams wait for its video. */
#define STREAMS_WAIT_MS 5000

static const MediaElement elements[] = {
	{ NULL, "urisourcebin", "gstreamer1.0-plugins-base" },
	{ NULL, "typefind", "libgstreamer1.0-0" },
	{ NULL, "parsebin", "gstreamer1.0-plugins-base" },
	{ NULL, "fdsink", "libgstreamer1.0-0" },
	{ NULL, "mpegtsmux", "gstreamer1.0-plugins-bad" },
	{ NULL, "h264parse", "gstreamer1.0-plugins-bad" },
	{ NULL, "aacparse", "gstreamer1.0-plugins-good" },
	{ "rtmp", "rtmp2src", "gstreamer1.0-plugins-bad" },
	{ "rtmp", "flvdemux", "gstreamer1.0-plugins-good" },
	{ "srt", "srtsrc", "gstreamer1.0-plugins-bad" },
	{ "http", "souphttpsrc", "gstreamer1.0-plugins-good" },
	{ "http", "hlsdemux", "gstreamer1.0-plugins-bad" },
	{ "http", "qtdemux", "gstreamer1.0-plugins-good" },
};

static struct {
	GMainLoop *loop;
	const char *scheme;	/* "rtmp", "srt" or "http" */
	char *shown;		/* the URL with its secrets redacted */
	GstElement *pipe, *sink, *mux;
	GMutex lock;		/* the output: taken by one input only */
	gboolean out_taken;
	GPtrArray *held;	/* remuxed streams not yet in the muxer */
	gboolean streams_known;	/* the video found, or waited for */
	gint receiving;		/* the first buffer reached stdout */
	guint first_timer;
	int status;
} F = { .status = EX_SOFTWARE };

static char *
scrub(const char *msg)
{
	const char *const secrets[] = { passphrase, streamid };

	return media_url_scrub(msg, url, F.shown, secrets, G_N_ELEMENTS(secrets));
}

/* Elements added from a streaming thread: into the pipeline and linked
 * (add_elements), then brought to its state and fed (start_chain). */
static void
add_elements(GstElement **els, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gst_bin_add(GST_BIN(F.pipe), els[i]);
	for (size_t i = 0; i + 1 < n; i++)
		gst_element_link(els[i], els[i + 1]);
}

static void
start_chain(GstPad *from, GstElement **els, size_t n)
{
	g_autoptr(GstPad) first = gst_element_get_static_pad(els[0], "sink");

	for (size_t i = n; i-- > 0;)
		gst_element_sync_state_with_parent(els[i]);
	gst_pad_link(from, first);
}

static void
add_chain(GstPad *from, GstElement **els, size_t n, GstPad *to)
{
	add_elements(els, n);
	if (to != NULL) {
		g_autoptr(GstPad) last = gst_element_get_static_pad(els[n - 1], "src");

		gst_pad_link(last, to);
	}
	start_chain(from, els, n);
}

/* A stream that is not passed on is taken and thrown away: an unlinked
 * pad would stop the demuxer once every other one is unlinked too. */
static void
discard(GstPad *pad)
{
	GstElement *fake = mediagst_make("fakesink");

	g_object_set(fake, "sync", FALSE, "async", FALSE, NULL);
	add_chain(pad, &fake, 1, NULL);
}

/* The muxer is made when the first remuxed stream appears. */
static GstPad *
mux_pad(void)
{
	GstPad *p;

	g_mutex_lock(&F.lock);
	if (F.mux == NULL) {
		F.mux = mediagst_make("mpegtsmux");
		gst_bin_add(GST_BIN(F.pipe), F.mux);
		gst_element_link(F.mux, F.sink);
		gst_element_sync_state_with_parent(F.mux);
	}
	p = gst_element_request_pad_simple(F.mux, "sink_%d");
	g_mutex_unlock(&F.lock);
	return p;
}

/* The remuxed streams go into the muxer together, when the video is
 * found, so that the muxer's first PMT names them all: players (mpv)
 * choose their tracks from the first PMT and take none that comes later,
 * and FLV's audio comes first, its video only at the first keyframe the
 * server passes on. Until then the audio is dropped, as a player starting
 * at that keyframe would; a stream with no video goes in STREAMS_WAIT_MS
 * after its first. */
typedef struct {
	GstPad *pad;
	gulong probe;	/* the drop, until the muxer takes it */
} Held;

static void
held_free(gpointer data)
{
	Held *h = data;

	if (h->probe != 0)
		gst_pad_remove_probe(h->pad, h->probe);
	gst_object_unref(h->pad);
	g_free(h);
}

static GstPadProbeReturn
cb_drop(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	return GST_PAD_PROBE_DROP;
}

/* Every held stream into the muxer, and PAD too (if not NULL). */
static gboolean
release_held(gpointer pad)
{
	g_autoptr(GPtrArray) held = NULL;
	g_autoptr(GPtrArray) to = g_ptr_array_new_with_free_func(gst_object_unref);

	g_mutex_lock(&F.lock);
	held = g_steal_pointer(&F.held);
	F.streams_known = TRUE;
	g_mutex_unlock(&F.lock);
	if (held == NULL)
		held = g_ptr_array_new_with_free_func(held_free);
	if (pad != NULL) {
		Held *h = g_new0(Held, 1);

		/* The video first: the muxer's first stream carries the PCR,
		 * and its tables go out before its packets, ahead of the
		 * keyframe the stream starts with. */
		h->pad = gst_object_ref(pad);
		g_ptr_array_insert(held, 0, h);
	}
	log_debug("%s: %u streams into the muxer", F.shown, held->len);
	/* Every pad first, then the data: the muxer starts on what it has. */
	for (guint i = 0; i < held->len; i++)
		g_ptr_array_add(to, mux_pad());
	for (guint i = 0; i < held->len; i++)
		gst_pad_link(((Held *)held->pdata[i])->pad, to->pdata[i]);
	return G_SOURCE_REMOVE;	/* held_free lets the data go */
}

static gboolean
cb_streams_waited(gpointer data)
{
	gboolean known;

	g_mutex_lock(&F.lock);
	known = F.streams_known;
	g_mutex_unlock(&F.lock);
	if (!known)
		release_held(NULL);
	return G_SOURCE_REMOVE;
}

/* A stream parsebin found, LAST the end of its chain: the video releases
 * every stream into the muxer, any other is held until then. One found
 * after that goes in at once (the PMT changes). */
static void
found_stream(GstElement *last, gboolean video)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(last, "src");
	Held *h;

	g_mutex_lock(&F.lock);
	if (F.streams_known || video) {
		gboolean late = F.streams_known;

		g_mutex_unlock(&F.lock);
		if (late) {
			g_autoptr(GstPad) to = mux_pad();

			log_debug("%s: a stream found late", F.shown);
			gst_pad_link(pad, to);
		} else {
			release_held(pad);
		}
		return;
	}
	h = g_new(Held, 1);
	h->pad = gst_object_ref(pad);
	h->probe = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_drop, NULL, NULL);
	if (F.held == NULL) {
		F.held = g_ptr_array_new_with_free_func(held_free);
		g_timeout_add(STREAMS_WAIT_MS, cb_streams_waited, NULL);
	}
	g_ptr_array_add(F.held, h);
	g_mutex_unlock(&F.lock);
}

/* A buffer that does not come after the one before it is dropped: FLV's
 * millisecond stamps sometimes repeat one as a player joins, and a TS
 * whose timestamps go back makes players complain. DATA: the last end. */
static GstPadProbeReturn
cb_forward_only(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstClockTime *last = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime t = GST_BUFFER_DTS_OR_PTS(buf);

	if (!GST_CLOCK_TIME_IS_VALID(t))
		return GST_PAD_PROBE_OK;
	if (GST_CLOCK_TIME_IS_VALID(*last) && t <= *last) {
		log_debug("%s: a buffer stamped %" GST_TIME_FORMAT " again: dropped",
		    GST_PAD_NAME(pad), GST_TIME_ARGS(t));
		return GST_PAD_PROBE_DROP;
	}
	*last = t;
	return GST_PAD_PROBE_OK;
}

static void
forward_only(GstElement *el)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(el, "src");
	GstClockTime *last = g_new(GstClockTime, 1);

	*last = GST_CLOCK_TIME_NONE;
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_forward_only,
	    last, g_free);
}

/* parsebin's elementary streams: H.264 in one PES packet per picture, as
 * pp-view reads it at once, and AAC, into the muxer, each through a queue
 * of its own: the demuxer feeds them from one thread, and the muxer
 * holds one stream's buffer until the other has one. */
static void
cb_stream_pad(GstElement *parsebin, GstPad *pad, gpointer data)
{
	g_autoptr(GstCaps) caps = gst_pad_query_caps(pad, NULL);
	const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));

	if (strcmp(name, "video/x-h264") == 0) {
		GstElement *els[] = { mediagst_make("queue"), mediagst_make("h264parse"),
		    mediagst_make("capsfilter") };
		g_autoptr(GstCaps) au = gst_caps_from_string(
		    "video/x-h264, stream-format=byte-stream, alignment=au");

		/* SPS and PPS before every keyframe: a player joins at any */
		g_object_set(els[1], "config-interval", -1, NULL);
		g_object_set(els[2], "caps", au, NULL);
		forward_only(els[2]);
		add_elements(els, G_N_ELEMENTS(els));
		found_stream(els[2], TRUE);
		start_chain(pad, els, G_N_ELEMENTS(els));
	} else if (strcmp(name, "audio/mpeg") == 0) {
		GstElement *els[] = { mediagst_make("queue"), mediagst_make("aacparse") };

		forward_only(els[1]);
		add_elements(els, G_N_ELEMENTS(els));
		found_stream(els[1], FALSE);
		start_chain(pad, els, G_N_ELEMENTS(els));
	} else {
		log_info("%s: its %s stream is left out (pp-fetch passes H.264 and AAC)",
		    F.shown, name);
		discard(pad);
	}
}

/* A TS from the middle of a stream (an SRT relay passes on whatever it
 * has) starts where a player can: at a keyframe after the PAT and PMT,
 * as pp-fanout starts its viewers, so the first picture is whole. */
typedef struct {
	TsTracker ts;
	guint8 partial[TS_PACKET_SIZE];	/* a packet split between buffers */
	size_t npartial;
} Gate;

static GstPadProbeReturn
gate_open(GstPadProbeInfo *info, Gate *g, const guint8 *first,
    const guint8 *rest, size_t nrest)
{
	GstBuffer *out = gst_buffer_new_allocate(NULL,
	    3 * TS_PACKET_SIZE + nrest, NULL);

	gst_buffer_fill(out, 0, g->ts.pat, TS_PACKET_SIZE);
	gst_buffer_fill(out, TS_PACKET_SIZE, g->ts.pmt, TS_PACKET_SIZE);
	gst_buffer_fill(out, 2 * TS_PACKET_SIZE, first, TS_PACKET_SIZE);
	gst_buffer_fill(out, 3 * TS_PACKET_SIZE, rest, nrest);
	gst_buffer_unref(GST_PAD_PROBE_INFO_BUFFER(info));
	GST_PAD_PROBE_INFO_DATA(info) = out;
	return GST_PAD_PROBE_REMOVE;	/* passes it, and all after it */
}

static GstPadProbeReturn
cb_ts_gate(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	Gate *g = data;
	g_autoptr(GstBuffer) buf = gst_buffer_ref(GST_PAD_PROBE_INFO_BUFFER(info));
	GstMapInfo m;
	GstPadProbeReturn ret = GST_PAD_PROBE_DROP;
	size_t i = 0;

	if (!gst_buffer_map(buf, &m, GST_MAP_READ))
		return GST_PAD_PROBE_DROP;
	if (g->npartial > 0) {
		i = MIN(TS_PACKET_SIZE - g->npartial, m.size);
		memcpy(g->partial + g->npartial, m.data, i);
		g->npartial += i;
		if (g->npartial == TS_PACKET_SIZE) {
			g->npartial = 0;
			if (ts_tracker_can_start(&g->ts, ts_tracker_feed(&g->ts, g->partial))) {
				ret = gate_open(info, g, g->partial, m.data + i, m.size - i);
				i = m.size;
			}
		}
	}
	while (i < m.size) {
		if (m.data[i] != TS_SYNC_BYTE) {	/* find the packets again */
			i += ts_find_sync(m.data + i, m.size - i);
			continue;
		}
		if (m.size - i < TS_PACKET_SIZE) {
			memcpy(g->partial, m.data + i, m.size - i);
			g->npartial = m.size - i;
			break;
		}
		if (ts_tracker_can_start(&g->ts, ts_tracker_feed(&g->ts, m.data + i))) {
			ret = gate_open(info, g, m.data + i, m.data + i + TS_PACKET_SIZE,
			    m.size - i - TS_PACKET_SIZE);
			break;
		}
		i += TS_PACKET_SIZE;
	}
	gst_buffer_unmap(buf, &m);
	return ret;
}

/* What an input of urisourcebin holds: a TS goes out as it is, anything
 * else through parsebin to be remuxed. */
static void
cb_have_type(GstElement *typefind, guint prob, GstCaps *caps, gpointer data)
{
	const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
	g_autoptr(GstPad) src = gst_element_get_static_pad(typefind, "src");
	gboolean ts = strcmp(name, "video/mpegts") == 0;

	log_debug("%s: %s", F.shown, name);
	g_mutex_lock(&F.lock);
	if (F.out_taken && ts) {
		g_mutex_unlock(&F.lock);
		log_info("%s: a second transport stream is left out", F.shown);
		discard(src);
		return;
	}
	F.out_taken |= ts;
	g_mutex_unlock(&F.lock);
	if (ts) {
		g_autoptr(GstPad) to = gst_element_get_static_pad(F.sink, "sink");
		GstElement *q = mediagst_make("queue");
		Gate *g = g_new0(Gate, 1);

		ts_tracker_init(&g->ts);
		gst_pad_add_probe(to, GST_PAD_PROBE_TYPE_BUFFER, cb_ts_gate, g, g_free);
		add_chain(src, &q, 1, to);
	} else {
		GstElement *parse = mediagst_make("parsebin");

		g_signal_connect(parse, "pad-added", G_CALLBACK(cb_stream_pad), NULL);
		add_chain(src, &parse, 1, NULL);
	}
}

static void
cb_source_pad(GstElement *uribin, GstPad *pad, gpointer data)
{
	GstElement *tf = mediagst_make("typefind");

	g_signal_connect(tf, "have-type", G_CALLBACK(cb_have_type), NULL);
	add_chain(pad, &tf, 1, NULL);
}

/* The source urisourcebin made for the URL: SRT's secrets, and for
 * https:// the --ca-file (souphttpsrc keeps its own database). */
static void
cb_source_setup(GstElement *uribin, GstElement *src, gpointer data)
{
	GObjectClass *k = G_OBJECT_GET_CLASS(src);

	if (passphrase != NULL && g_object_class_find_property(k, "passphrase"))
		g_object_set(src, "passphrase", passphrase, NULL);
	if (streamid != NULL && g_object_class_find_property(k, "streamid"))
		g_object_set(src, "streamid", streamid, NULL);
	if (ca_file != NULL && g_object_class_find_property(k, "ssl-ca-file"))
		g_object_set(src, "ssl-ca-file", ca_file, NULL);
	if (g_object_class_find_property(k, "auto-reconnect"))
		g_object_set(src, "auto-reconnect", FALSE, NULL);
}

static gboolean
cb_receiving(gpointer data)
{
	g_clear_handle_id(&F.first_timer, g_source_remove);
	log_info("receiving %s", F.shown);
	status_event("connected", "url", F.shown, NULL);
	return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
cb_first_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	if (g_atomic_int_compare_and_exchange(&F.receiving, 0, 1))
		g_idle_add(cb_receiving, NULL);
	return GST_PAD_PROBE_REMOVE;
}

static gboolean
cb_first_late(gpointer data)
{
	F.first_timer = 0;
	warnx("nothing came from %s in %d s: is the stream being published there?",
	    F.shown, FIRST_DATA_S);
	F.status = EX_UNAVAILABLE;
	g_main_loop_quit(F.loop);
	return G_SOURCE_REMOVE;
}

/* souphttpsrc (GStreamer 1.22) posts only "Internal data stream error"
 * when it cannot connect: the connection, tried once more here, says
 * why (refused, no route, no such host). NULL if it connects. */
static char *
http_connect_error(void)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GError) err = NULL;

	g_socket_client_set_timeout(client, 5);
	conn = g_socket_client_connect_to_uri(client, url,
	    g_str_has_prefix(url, "https:") ? 443 : 80, NULL, &err);
	return conn != NULL ? NULL : g_strdup(err->message);
}

static gboolean
cb_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ERROR: {
		g_autofree char *why = mediagst_error_text(msg), *clean = NULL;
		g_autoptr(GError) err = NULL;

		if (GST_MESSAGE_SRC(msg) == GST_OBJECT(F.sink)) {
			/* stdout's reader is gone: nobody to tell */
			F.status = 0;
			g_main_loop_quit(F.loop);
			break;
		}
		gst_message_parse_error(msg, &err, NULL);
		if (strcmp(F.scheme, "http") == 0 && !g_atomic_int_get(&F.receiving) &&
		    g_error_matches(err, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED)) {
			char *conn = http_connect_error();

			if (conn != NULL) {
				g_free(why);
				why = conn;
			}
		}
		clean = scrub(why);
		if (g_atomic_int_get(&F.receiving))
			warnx("%s: the stream broke: %s", F.shown, clean);
		else
			warnx("cannot play %s: %s", F.shown, clean);
		F.status = EX_UNAVAILABLE;
		g_main_loop_quit(F.loop);
		break;
	}
	case GST_MESSAGE_EOS:
		log_info("%s: the stream ended", F.shown);
		F.status = 0;
		g_main_loop_quit(F.loop);
		break;
	default:
		break;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
cb_signal(gpointer data)
{
	log_debug("signal %d: stopping", GPOINTER_TO_INT(data));
	F.status = 0;
	g_main_loop_quit(F.loop);
	return G_SOURCE_CONTINUE;
}

static void
build(void)
{
	GstElement *uribin = mediagst_make("urisourcebin");
	g_autoptr(GstPad) in = NULL;
	GstBus *bus;

	F.pipe = gst_pipeline_new("fetch");
	F.sink = mediagst_make("fdsink");
	/* Written as it comes: the player keeps the time. */
	g_object_set(F.sink, "fd", STDOUT_FILENO, "sync", FALSE, "async", FALSE, NULL);
	g_object_set(uribin, "uri", url, NULL);
	g_signal_connect(uribin, "source-setup", G_CALLBACK(cb_source_setup), NULL);
	g_signal_connect(uribin, "pad-added", G_CALLBACK(cb_source_pad), NULL);
	gst_bin_add_many(GST_BIN(F.pipe), uribin, F.sink, NULL);
	in = gst_element_get_static_pad(F.sink, "sink");
	gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
	    cb_first_buffer, NULL, NULL);
	bus = gst_element_get_bus(F.pipe);
	gst_bus_add_watch(bus, cb_bus, NULL);
	gst_object_unref(bus);
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
		F.scheme = "rtmp";
	else if (g_str_has_prefix(url, "srt://"))
		F.scheme = "srt";
	else if (g_str_has_prefix(url, "http://") || g_str_has_prefix(url, "https://"))
		F.scheme = "http";
	else
		errx(EX_UNAVAILABLE, "%.*s: not a URL pp-fetch reads (rtmp://, rtmps://, srt://, http:// or https://)",
		    (int)strcspn(url, ":"), url);
	F.shown = media_url_redact(url);
	if (strcmp(F.scheme, "srt") != 0 && (passphrase != NULL || streamid != NULL))
		errx(EX_USAGE, "--passphrase and --streamid are SRT's");
	if (ca_file != NULL && !g_str_has_prefix(url, "rtmps://") &&
	    !g_str_has_prefix(url, "https://"))
		errx(EX_USAGE, "--ca-file is for rtmps:// and https:// URLs");
	if (isatty(STDOUT_FILENO))
		errx(EX_USAGE, "the stream goes to the standard output: pipe it to pp-view - or into a file");

	gst_init(NULL, NULL);
	mediagst_require(elements, G_N_ELEMENTS(elements), F.scheme);
	if (ca_file != NULL) {
		g_autoptr(GError) e = NULL;

		if (!media_url_trust_only(ca_file, &e))
			errx(EX_NOINPUT, "%s: %s", ca_file, e->message);
	}
	signal(SIGPIPE, SIG_IGN);
	g_mutex_init(&F.lock);
	F.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, cb_signal, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, cb_signal, GINT_TO_POINTER(SIGINT));
	build();
	F.first_timer = g_timeout_add_seconds(FIRST_DATA_S, cb_first_late, NULL);
	if (gst_element_set_state(F.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		/* the error on the bus says why */
		g_autoptr(GstMessage) m = gst_bus_pop_filtered(GST_ELEMENT_BUS(F.pipe),
		    GST_MESSAGE_ERROR);

		if (m != NULL)
			cb_bus(NULL, m, NULL);
		else {
			warnx("cannot play %s: the pipeline did not start", F.shown);
			F.status = EX_UNAVAILABLE;
		}
	} else {
		g_main_loop_run(F.loop);
	}

	g_clear_handle_id(&F.first_timer, g_source_remove);
	gst_element_set_state(F.pipe, GST_STATE_NULL);
	gst_object_unref(F.pipe);
	g_main_loop_unref(F.loop);
	g_free(F.shown);
	gst_deinit();
	return F.status;
}
