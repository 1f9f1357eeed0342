/* pp-encode: a screen (X11, a PipeWire screencast, or a test pattern) and
 * its sound, encoded live to H.264 and AAC in MPEG-TS on stdout. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <X11/Xlib.h>

#include "capture-env.h"
#include "encoder.h"
#include "hostclock.h"
#include "log.h"
#include "opt.h"
#include "status.h"

enum { SRC_TEST, SRC_X11, SRC_PIPEWIRE };
static const char *const source_names[] = { "test", "x11", "pipewire" };

static int source = -1;		/* --source */
static guint bitrate = 6000;	/* --bitrate, kbit/s */
static guint fps = 30;		/* --fps */
static guint keyint = 2;	/* --keyint, seconds */
static guint max_w, max_h;	/* --max-size, 0: no limit */
static const char *encoder;	/* --encoder, NULL: probe */
static guint tone = 440;	/* --tone, Hz of the test source */
static const char *display;	/* --display, PP_DISPLAY */
static guint64 window_id;	/* --window-id, PP_WINDOW_ID */
static gboolean cursor_hidden;	/* --cursor hidden, PP_CURSOR */
static int pipewire_fd = -2;	/* --pipewire-fd, -2: fd 3 if open */
static const char *node;	/* --node, PP_PIPEWIRE_NODE */
static const char *audio_device; /* --audio-device, PP_AUDIO_DEVICE */
static gboolean no_audio;	/* --no-audio, PP_NO_AUDIO=1 */
static gboolean mic;		/* --mic, PP_MIC=1 */
static const char *outfile;	/* -o */
static guint test_w = 1280, test_h = 720; /* PP_WIDTH, PP_HEIGHT */
static guint layers = 1;	/* --layers */

/* The second layer (--layers 2): the same pictures at half the width
 * and height and a quarter of the bit rate, on its own PID of the one
 * program, with keyframes at the same frames as the first. pp-fanout
 * hands each consumer one layer as a plain stream (lib/ts.h, "Layers"). */
#define LAYER2_PID	0x43	/* the first layer is mpegtsmux's 0x41 */
#define LAYER2_SCALE	2	/* each side divided by */
#define LAYER2_RATE	4	/* the bit rate divided by */
/* The host's wall clock (lib/hostclock.h), after the video, the sound
 * and the second layer. */
#define CLOCK_PID	0x44

/* How long SIGTERM waits for the stream to finish before giving up. */
#define DRAIN_TIMEOUT 5
/* How long stopping the pipeline may take once the stream is done. */
#define TEARDOWN_TIMEOUT 2
/* A signal this soon after the first (microseconds) is the same stop,
 * delivered twice: a signal to the process group of pp-capture --
 * pp-encode (pp-fanout stopping its producer, ^C in a terminal) reaches
 * both, and pp-capture hands it on. A person's second ^C comes later. */
#define REPEAT_WINDOW (250 * G_TIME_SPAN_MILLISECOND)

static struct {
	GMainLoop *loop;
	GstElement *pipe;
	GstElement *vsrc;	/* the screen or pattern source */
	GstElement *vcaps;	/* output size and rate, fixed at first caps */
	GstElement *parse;	/* h264parse: keyframe requests go here */
	GstElement *vcaps2;	/* the second layer's size */
	gint key_pending;	/* --layers 2: force one at the next frame */
	EncoderSettings es;	/* of the first layer */
	const char *encoder;
	char *audio;		/* what the start line says about sound */
	const char *audio_source;	/* for events: none, tone or the device */
	int out;
	int status;
	gboolean stopping;	/* EOS sent, waiting for it on the bus */
	gint64 stop_time;	/* when the stop signal came (monotonic) */
	gboolean ended;		/* the source itself ended */
	gint frames;		/* video frames out of the source */
	guint in_w, in_h;	/* what the source gives */
	guint out_w, out_h;	/* what the encoder gets */
	guint keyframes_asked;
	gint window_gone;	/* the shared X window was closed */
	gint64 grid_slot;	/* x11: the 1/fps slot of the last frame */
	GstElement *vmuxq;	/* the queue before the mux, first layer */
	GstPad *clockpad;	/* feeds the mux the host's clock */
	gboolean clock_started;	/* its stream-start, caps and segment sent */
	GstClockTime clock_next;	/* running time of its next packet */
} pp = { .out = STDOUT_FILENO };

static const char usage_text[] =
    "usage: pp-encode [-v] [-o file] [--source test | x11 | pipewire]\n"
    "                 [--bitrate kbps] [--fps n] [--keyint seconds] [--max-size WxH]\n"
    "                 [--encoder name] [--tone hz] [--display name] [--window-id xid]\n"
    "                 [--cursor embedded | hidden] [--pipewire-fd fd] [--node id]\n"
    "                 [--audio-device name] [--no-audio] [--mic] [--layers n]\n"
    "                 [--status-fd n]\n"
    "       pp-encode --list-encoders\n"
    "       pp-encode --help | --version\n";

static void
parse_size(const char *what, const char *s, guint *w, guint *h)
{
	g_auto(GStrv) part = g_strsplit(s, "x", 0);
	const char *errstr = NULL;

	if (g_strv_length(part) != 2)
		errx(EX_USAGE, "%s %s: expected WIDTHxHEIGHT, e.g. 1280x720", what, s);
	*w = strtonum(part[0], 16, 16384, &errstr);
	if (errstr == NULL)
		*h = strtonum(part[1], 16, 16384, &errstr);
	if (errstr != NULL)
		errx(EX_USAGE, "%s %s: a side is %s (expected 16 to 16384 each)", what, s, errstr);
}

static int
parse_source(const char *what, const char *s)
{
	if (strcmp(s, "portal") == 0)	/* pp-capture's name for it */
		return SRC_PIPEWIRE;
	for (int i = 0; i < (int)G_N_ELEMENTS(source_names); i++)
		if (strcmp(s, source_names[i]) == 0)
			return i;
	errx(EX_USAGE, "%s %s: expected test, x11 or pipewire", what, s);
}

static guint64
parse_xid(const char *what, const char *s)
{
	char *end;
	guint64 v;

	errno = 0;
	v = g_ascii_strtoull(s, &end, 0);
	if (errno != 0 || *s == '\0' || *end != '\0' || v == 0)
		errx(EX_USAGE, "%s %s: expected a window id such as 0x1e00003", what, s);
	return v;
}

static gboolean
parse_cursor(const char *what, const char *s)
{
	if (strcmp(s, "hidden") == 0)
		return TRUE;
	if (strcmp(s, "embedded") == 0)
		return FALSE;
	errx(EX_USAGE, "%s %s: expected embedded or hidden", what, s);
}

/* An environment variable, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static gboolean
env_flag(const char *name)
{
	const char *v = env(name);

	return v != NULL && strcmp(v, "0") != 0;
}

/* The contract with pp-capture; flags parsed later override these. */
static void
read_env(void)
{
	const char *v;

	if ((v = env(PP_ENV_SOURCE)) != NULL)
		source = parse_source(PP_ENV_SOURCE, v);
	if ((v = env(PP_ENV_WIDTH)) != NULL)
		test_w = opt_number(PP_ENV_WIDTH, v, 16, 16384);
	if ((v = env(PP_ENV_HEIGHT)) != NULL)
		test_h = opt_number(PP_ENV_HEIGHT, v, 16, 16384);
	if ((v = env(PP_ENV_DISPLAY)) != NULL)
		display = v;
	if ((v = env(PP_ENV_WINDOW_ID)) != NULL)
		window_id = parse_xid(PP_ENV_WINDOW_ID, v);
	if ((v = env(PP_ENV_CURSOR)) != NULL)
		cursor_hidden = parse_cursor(PP_ENV_CURSOR, v);
	if ((v = env(PP_ENV_PIPEWIRE_NODE)) != NULL)
		node = v;
	if ((v = env(PP_ENV_AUDIO_DEVICE)) != NULL)
		audio_device = v;
	mic = env_flag(PP_ENV_MIC);
	no_audio = env_flag(PP_ENV_NO_AUDIO);
}

/* Output size: the input scaled down to fit --max-size keeping its
 * aspect, never up, with even sides as 4:2:0 encoders need. */
static void
fit_size(guint w, guint h, guint *ow, guint *oh)
{
	double scale = 1.0;

	if (max_w != 0 && w > max_w)
		scale = (double)max_w / w;
	if (max_h != 0 && h * scale > max_h)
		scale = (double)max_h / h;
	*ow = MAX(2, (guint)(w * scale + 0.5) & ~1u);
	*oh = MAX(2, (guint)(h * scale + 0.5) & ~1u);
	if (*ow > w)
		*ow = MAX(2, w & ~1u);
	if (*oh > h)
		*oh = MAX(2, h & ~1u);
}

/* The element, or exit naming the package that has it. */
static GstElement *
make(const char *factory, const char *name)
{
	static const struct { const char *f, *pkg; } pkgs[] = {
		{ "ximagesrc", "gstreamer1.0-plugins-good" },
		{ "pulsesrc", "gstreamer1.0-plugins-good" },
		{ "pipewiresrc", "gstreamer1.0-pipewire" },
		{ "avenc_aac", "gstreamer1.0-libav" },
		{ "h264parse", "gstreamer1.0-plugins-bad" },
		{ "mpegtsmux", "gstreamer1.0-plugins-bad" },
		{ "clockoverlay", "gstreamer1.0-x" },
		{ "timeoverlay", "gstreamer1.0-x" },
		{ "aacparse", "gstreamer1.0-plugins-good" },
	};
	GstElement *el = gst_element_factory_make(factory, name);
	const char *pkg = "gstreamer1.0-plugins-base";

	if (el != NULL)
		return el;
	for (size_t i = 0; i < G_N_ELEMENTS(pkgs); i++)
		if (strcmp(pkgs[i].f, factory) == 0)
			pkg = pkgs[i].pkg;
	errx(EX_UNAVAILABLE, "GStreamer element %s is missing; install %s", factory, pkg);
}

static GstCaps *
raw_video_caps(const char *format, guint w, guint h)
{
	GstCaps *caps = gst_caps_new_simple("video/x-raw",
	    "framerate", GST_TYPE_FRACTION, (int)fps, 1,
	    "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);

	if (format != NULL)
		gst_caps_set_simple(caps, "format", G_TYPE_STRING, format, NULL);
	if (w != 0)
		gst_caps_set_simple(caps, "width", G_TYPE_INT, (int)w,
		    "height", G_TYPE_INT, (int)h, NULL);
	return caps;
}

static void
link_pair(GstElement *a, GstElement *b)
{
	if (!gst_element_link(a, b))
		errx(EX_SOFTWARE, "cannot link %s to %s", GST_OBJECT_NAME(a),
		    GST_OBJECT_NAME(b));
}

/* Adds the elements to the pipeline and links them in a row. */
static GstElement *
chain(GstElement *first, ...)
{
	va_list ap;
	GstElement *prev = first, *el;

	if (GST_OBJECT_PARENT(first) == NULL)	/* else: continues a chain */
		gst_bin_add(GST_BIN(pp.pipe), first);
	va_start(ap, first);
	while ((el = va_arg(ap, GstElement *)) != NULL) {
		gst_bin_add(GST_BIN(pp.pipe), el);
		link_pair(prev, el);
		prev = el;
	}
	va_end(ap);
	return prev;
}

static GstElement *
capsfilter(GstCaps *caps)
{
	GstElement *el = make("capsfilter", NULL);

	g_object_set(el, "caps", caps, NULL);
	gst_caps_unref(caps);
	return el;
}

/* Unsized until the source's first caps fix the first layer's size. */
static GstCaps *
layer2_caps(void)
{
	if (pp.out_w == 0)
		return raw_video_caps(encoder_format(pp.encoder), 0, 0);
	return raw_video_caps(encoder_format(pp.encoder),
	    MAX(16, pp.out_w / LAYER2_SCALE & ~1u),
	    MAX(16, pp.out_h / LAYER2_SCALE & ~1u));
}

/* --layers 2: the second layer's caps say the first's colorimetry and
 * chroma siting, which the pictures reaching its videoscale have. Left
 * unsaid, each size got GStreamer's default for it (BT.709 at 1280x720,
 * BT.601 at 640x360), and videoscale converted every picture from the
 * one matrix to the other: more CPU than the small layer's x264 encode
 * itself (doc/PERFORMANCE.md), and a player switched between the layers
 * got two colorimetries. */
static GstPadProbeReturn
cb_layer2_caps(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
	GstCaps *caps, *want;
	GstVideoInfo vi;
	g_autofree char *cm = NULL, *site = NULL;

	if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS)
		return GST_PAD_PROBE_OK;
	gst_event_parse_caps(ev, &caps);
	if (!gst_video_info_from_caps(&vi, caps))
		return GST_PAD_PROBE_OK;
	want = layer2_caps();
	if ((cm = gst_video_colorimetry_to_string(&vi.colorimetry)) != NULL)
		gst_caps_set_simple(want, "colorimetry", G_TYPE_STRING, cm, NULL);
	if ((site = gst_video_chroma_site_to_string(vi.chroma_site)) != NULL)
		gst_caps_set_simple(want, "chroma-site", G_TYPE_STRING, site, NULL);
	g_object_set(pp.vcaps2, "caps", want, NULL);
	gst_caps_unref(want);
	return GST_PAD_PROBE_OK;
}

/* The first caps out of the source fix the output size; later changes
 * (a resized window) are scaled into it with borders, so viewers never
 * see the stream's size change. */
static GstPadProbeReturn
cb_source_caps(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
	GstCaps *caps, *fixed;
	GstStructure *st;
	int w, h;

	if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS || pp.in_w != 0)
		return GST_PAD_PROBE_OK;
	gst_event_parse_caps(ev, &caps);
	st = gst_caps_get_structure(caps, 0);
	if (!gst_structure_get_int(st, "width", &w) ||
	    !gst_structure_get_int(st, "height", &h))
		return GST_PAD_PROBE_OK;
	pp.in_w = w;
	pp.in_h = h;
	fit_size(w, h, &pp.out_w, &pp.out_h);
	fixed = raw_video_caps(encoder_format(pp.encoder), pp.out_w, pp.out_h);
	g_object_set(pp.vcaps, "caps", fixed, NULL);
	gst_caps_unref(fixed);
	if (pp.vcaps2 != NULL) {
		fixed = layer2_caps();
		g_object_set(pp.vcaps2, "caps", fixed, NULL);
		gst_caps_unref(fixed);
	}
	return GST_PAD_PROBE_OK;
}

/* A screencast's buffers carry timestamps of PipeWire's making, not
 * necessarily in the pipeline's time base: stamp each with the running
 * time at which it arrives, as a capture card would, so that videorate,
 * the audio and the mux all see one clock. */
static GstPadProbeReturn
cb_restamp(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstElement *src = data;
	GstClock *clock = gst_element_get_clock(src);
	GstBuffer *buf;
	GstClockTime now;

	if (clock == NULL)
		return GST_PAD_PROBE_OK;
	now = gst_clock_get_time(clock) - gst_element_get_base_time(src);
	gst_object_unref(clock);
	buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
	GST_BUFFER_PTS(buf) = now;
	GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
	GST_BUFFER_DURATION(buf) = GST_CLOCK_TIME_NONE;
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	return GST_PAD_PROBE_OK;
}

/* Puts an X11 grab on the 1/fps grid: its timestamp rounded to the
 * nearest free slot; a grab more than a frame ahead of its slot (the
 * source caught up after a stall) is dropped. videorate did this before,
 * but it holds each frame until the next arrives: a whole frame of
 * latency (33 ms at 30 fps), measured with bench/latency. Slots with no
 * grab stay empty: the player shows the previous frame a little longer. */
static GstPadProbeReturn
cb_grid(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime dur = gst_util_uint64_scale_int(GST_SECOND, 1, fps);
	GstClockTime pts = GST_BUFFER_PTS(buf);
	gint64 slot;

	if (!GST_CLOCK_TIME_IS_VALID(pts))
		return GST_PAD_PROBE_OK;
	slot = (pts + dur / 2) / dur;
	if (slot <= pp.grid_slot) {
		if ((pp.grid_slot + 1) * dur > pts + dur)
			return GST_PAD_PROBE_DROP;
		slot = pp.grid_slot + 1;
	}
	pp.grid_slot = slot;
	buf = gst_buffer_make_writable(buf);
	GST_BUFFER_PTS(buf) = slot * dur;
	GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
	GST_BUFFER_DURATION(buf) = dur;
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
cb_source_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	g_atomic_int_inc(&pp.frames);
	return GST_PAD_PROBE_OK;
}

/* The start line, once the encoder knows what it gets. */
static GstPadProbeReturn
cb_encoder_caps(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
	GstCaps *caps;
	GstStructure *st;
	int w = 0, h = 0;

	if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS)
		return GST_PAD_PROBE_OK;
	gst_event_parse_caps(ev, &caps);
	st = gst_caps_get_structure(caps, 0);
	gst_structure_get_int(st, "width", &w);
	gst_structure_get_int(st, "height", &h);
	log_info("source %s (%ux%u), %dx%d at %u fps, encoder %s, %u kbit/s, keyframe every %u s, audio %s",
	    source_names[source], pp.in_w, pp.in_h, w, h, fps, pp.encoder,
	    bitrate, keyint, pp.audio);
	if (status_enabled()) {
		char n[7][16];

		g_snprintf(n[0], sizeof(n[0]), "%d", w);
		g_snprintf(n[1], sizeof(n[1]), "%d", h);
		g_snprintf(n[2], sizeof(n[2]), "%u", fps);
		g_snprintf(n[3], sizeof(n[3]), "%u", bitrate);
		g_snprintf(n[4], sizeof(n[4]), "%u", keyint);
		g_snprintf(n[5], sizeof(n[5]), "%u", layers);
		status_event("encoding", "source", source_names[source],
		    "width", n[0], "height", n[1], "fps", n[2],
		    "encoder", pp.encoder, "kbps", n[3], "keyint", n[4],
		    "audio", pp.audio_source, "mic", mic ? "yes" : "no",
		    "layers", n[5], NULL);
	}
	return GST_PAD_PROBE_REMOVE;
}

static void
probe_event(GstElement *el, const char *padname, GstPadProbeCallback cb)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(el, padname);

	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, cb,
	    NULL, NULL);
}

static GstElement *
build_video_source(void)
{
	GstElement *src, *last;

	switch (source) {
	case SRC_TEST:
		/* A moving picture with a running clock: a viewer sees at
		 * a glance that the stream is live and how late it is. */
		src = make("videotestsrc", "video-source");
		g_object_set(src, "is-live", TRUE, NULL);
		gst_util_set_object_arg(G_OBJECT(src), "pattern", "smpte");
		g_object_set(src, "horizontal-speed", 4, NULL);
		pp.in_w = test_w;
		pp.in_h = test_h;
		fit_size(test_w, test_h, &pp.out_w, &pp.out_h);
		GstElement *clock = make("clockoverlay", NULL);
		g_object_set(clock, "time-format", "%H:%M:%S",
		    "font-desc", "Sans Bold 24", NULL);
		gst_util_set_object_arg(G_OBJECT(clock), "halignment", "left");
		gst_util_set_object_arg(G_OBJECT(clock), "valignment", "top");
		GstElement *time = make("timeoverlay", NULL);
		g_object_set(time, "font-desc", "Sans Bold 24", NULL);
		gst_util_set_object_arg(G_OBJECT(time), "halignment", "right");
		gst_util_set_object_arg(G_OBJECT(time), "valignment", "bottom");
		last = chain(src, capsfilter(raw_video_caps("I420", pp.out_w,
		    pp.out_h)), clock, time, NULL);
		break;
	case SRC_X11:
		src = make("ximagesrc", "video-source");
		/* Damage events miss changes on some servers (Xvfb among
		 * them); full grabs cost little at screen-sharing rates. */
		g_object_set(src, "use-damage", FALSE,
		    "show-pointer", !cursor_hidden, NULL);
		if (display != NULL)
			g_object_set(src, "display-name", display, NULL);
		if (window_id != 0)
			g_object_set(src, "xid", window_id, NULL);
		/* ximagesrc stamps each frame with when it grabbed it, late
		 * ones off the 1/fps grid; cb_grid puts them back on it. */
		last = chain(src, capsfilter(raw_video_caps(NULL, 0, 0)),
		    NULL);
		break;
	default:
		src = make("pipewiresrc", "video-source");
		if (pipewire_fd >= 0)
			g_object_set(src, "fd", pipewire_fd, NULL);
		if (node != NULL)
			g_object_set(src, "path", node, NULL);
		g_object_set(src, "client-name", "pp-encode", NULL);
		/* A compositor sends frames only when the screen changes:
		 * resending the last one keeps a still screen streaming. */
		g_object_set(src, "keepalive-time", (int)(1000 / fps), NULL);
		GstElement *rate = make("videorate", NULL);
		g_object_set(rate, "skip-to-first", TRUE, NULL);
		GstElement *caps = make("capsfilter", NULL);
		GstCaps *c = gst_caps_new_simple("video/x-raw", "framerate",
		    GST_TYPE_FRACTION, (int)fps, 1, NULL);
		g_object_set(caps, "caps", c, NULL);
		gst_caps_unref(c);
		last = chain(src, rate, caps, NULL);
		break;
	}
	pp.vsrc = src;
	return last;
}

/* encoder, h264parse, a queue, then the mux: on the pad for PID, or
 * the one the mux picks when PID is 0. Returns the h264parse. */
static GstElement *
h264_branch(GstElement *from, GstElement *enc, GstElement *mux, guint pid)
{
	GstElement *parse = make("h264parse", NULL);
	GstElement *queue = make("queue", NULL);
	GstElement *h264caps = capsfilter(gst_caps_new_simple("video/x-h264",
	    "stream-format", G_TYPE_STRING, "byte-stream",
	    "alignment", G_TYPE_STRING, "au", NULL));

	/* SPS/PPS before every IDR, so any keyframe is a starting point
	 * (and, in a layer pp-fanout switches to, a change of size). */
	g_object_set(parse, "config-interval", -1, NULL);
	chain(from, enc, parse, h264caps, queue, NULL);
	if (pid == 0) {
		pp.vmuxq = queue;
		link_pair(queue, mux);
	} else {
		g_autofree char *name = g_strdup_printf("sink_%u", pid);
		g_autoptr(GstPad) sink = gst_element_request_pad_simple(mux,
		    name);
		g_autoptr(GstPad) src = gst_element_get_static_pad(queue,
		    "src");

		if (sink == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK)
			errx(EX_SOFTWARE, "cannot link the second layer to the mux's %s", name);
	}
	return parse;
}

/* --layers 2: a keyframe request goes into the stream before a frame,
 * ahead of the tee, so that both encoders get it with the same frame
 * (upstream requests, one per encoder, could land a frame apart). */
static GstPadProbeReturn
cb_layer_key(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	gint n = g_atomic_int_and(&pp.key_pending, 0);

	if (n != 0)
		gst_pad_push_event(pad,
		    gst_video_event_new_downstream_force_key_unit(
		    GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE,
		    GST_CLOCK_TIME_NONE, TRUE, n));
	return GST_PAD_PROBE_OK;
}

static void
build_video(GstElement *mux, GstElement *enc)
{
	GstElement *last, *convert, *scale, *queue;
	g_autoptr(GstPad) srcpad = NULL;

	last = build_video_source();
	convert = make("videoconvert", NULL);
	scale = make("videoscale", NULL);
	pp.vcaps = capsfilter(raw_video_caps(encoder_format(pp.encoder),
	    pp.out_w, pp.out_h));
	/* Small: when the encoder falls behind, the source waits and a
	 * live source then skips frames, instead of latency growing. */
	queue = make("queue", NULL);
	g_object_set(queue, "max-size-buffers", 3, "max-size-bytes", 0,
	    "max-size-time", (guint64)0, NULL);
	last = chain(last, convert, scale, pp.vcaps, NULL);
	if (layers > 1) {
		EncoderSettings es2 = pp.es;
		GstElement *tee = make("tee", NULL), *enc2, *queue2;
		g_autofree char *why = NULL;
		g_autoptr(GstPad) teesink = NULL;

		es2.width = MAX(16, es2.width / LAYER2_SCALE & ~1u);
		es2.height = MAX(16, es2.height / LAYER2_SCALE & ~1u);
		es2.bitrate = MAX(100, pp.es.bitrate / LAYER2_RATE);
		/* One thread: slices and their hand-offs cost a small
		 * picture more than they save (doc/PERFORMANCE.md), and it
		 * encodes in a few ms. */
		es2.threads = 1;
		if ((enc2 = encoder_make(pp.encoder, &es2, &why)) == NULL)
			errx(EX_UNAVAILABLE, "encoder %s for the second layer: %s", pp.encoder, why);
		queue2 = make("queue", NULL);
		g_object_set(queue2, "max-size-buffers", 3,
		    "max-size-bytes", 0, "max-size-time", (guint64)0, NULL);
		pp.vcaps2 = capsfilter(layer2_caps());
		last = chain(last, tee, NULL);
		chain(tee, queue, NULL);
		chain(tee, queue2, make("videoscale", NULL), pp.vcaps2, NULL);
		probe_event(queue2, "src", cb_layer2_caps);
		pp.parse = h264_branch(queue, enc, mux, 0);
		h264_branch(pp.vcaps2, enc2, mux, LAYER2_PID);
		log_info("second layer: half the width and height, %u kbit/s, on PID %#x",
		    es2.bitrate, LAYER2_PID);
		teesink = gst_element_get_static_pad(tee, "sink");
		g_autoptr(GstPad) before = gst_pad_get_peer(teesink);
		gst_pad_add_probe(before, GST_PAD_PROBE_TYPE_BUFFER,
		    cb_layer_key, NULL, NULL);
	} else {
		chain(last, queue, NULL);
		pp.parse = h264_branch(queue, enc, mux, 0);
	}

	srcpad = gst_element_get_static_pad(pp.vsrc, "src");
	if (source == SRC_PIPEWIRE)
		gst_pad_add_probe(srcpad, GST_PAD_PROBE_TYPE_BUFFER,
		    cb_restamp, pp.vsrc, NULL);
	if (source == SRC_X11) {
		pp.grid_slot = -1;
		gst_pad_add_probe(srcpad, GST_PAD_PROBE_TYPE_BUFFER, cb_grid,
		    NULL, NULL);
	}
	gst_pad_add_probe(srcpad, GST_PAD_PROBE_TYPE_BUFFER, cb_source_buffer,
	    NULL, NULL);
	probe_event(convert, "sink", cb_source_caps);
	probe_event(enc, "sink", cb_encoder_caps);
}

/* --- the host's wall clock in the stream ------------------------------------ */

static void
clock_start(void)
{
	GstSegment seg;
	g_autoptr(GstCaps) caps = gst_caps_new_simple("meta/x-klv",
	    "parsed", G_TYPE_BOOLEAN, TRUE, NULL);

	pp.clock_started = TRUE;
	gst_pad_push_event(pp.clockpad,
	    gst_event_new_stream_start("pp-encode-host-clock"));
	gst_pad_push_event(pp.clockpad, gst_event_new_caps(caps));
	/* Its PTS are running times, as the other streams' become in the
	 * mux: the same clock. */
	gst_segment_init(&seg, GST_FORMAT_TIME);
	gst_pad_push_event(pp.clockpad, gst_event_new_segment(&seg));
}

/* A picture (of the first layer) on its way into the mux: about once a
 * second, a clock packet stamped with its running time says what the
 * host's wall clock read then. The running time a picture has is when
 * it was grabbed (ximagesrc; videotestsrc makes it then; a screencast's
 * is when PipeWire handed it over, cb_restamp), so a viewer's "behind
 * the host" starts at the grab. The pipeline clock is the monotonic
 * one: read with CLOCK_REALTIME, the picture's running time becomes
 * wall time. Pushed from the thread that hands the mux the picture,
 * just before it: pushed ahead of the encoder, the clock's input could
 * fill up and wait for pictures an encoder with latency still holds.
 * EOS follows the video's, so the mux can finish. */
static GstPadProbeReturn
cb_clock(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	g_autoptr(GstEvent) ev = NULL;
	g_autoptr(GstClock) clock = NULL;
	GstBuffer *buf;
	const GstSegment *seg;
	GstClockTime rt, now;
	gint64 wall_us;
	uint8_t pkt[HOSTCLOCK_PACKET_SIZE];

	if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
		if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
			if (!pp.clock_started)
				clock_start();
			gst_pad_push_event(pp.clockpad, gst_event_new_eos());
		}
		return GST_PAD_PROBE_OK;
	}
	buf = GST_PAD_PROBE_INFO_BUFFER(info);
	ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
	if (ev == NULL || !GST_BUFFER_PTS_IS_VALID(buf) ||
	    (clock = gst_element_get_clock(pp.pipe)) == NULL)
		return GST_PAD_PROBE_OK;
	gst_event_parse_segment(ev, &seg);
	rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
	if (!GST_CLOCK_TIME_IS_VALID(rt))
		return GST_PAD_PROBE_OK;
	if (pp.clock_started && rt < pp.clock_next) {
		/* No packet: a gap says so. The mux muxes in PTS order,
		 * so it waits for every input to reach a PTS; without the
		 * gaps it waited for the next clock packet, and the
		 * pictures came out in bursts, once a second. */
		gst_pad_push_event(pp.clockpad, gst_event_new_gap(rt, 0));
		return GST_PAD_PROBE_OK;
	}
	now = gst_clock_get_time(clock) - gst_element_get_base_time(pp.pipe);
	wall_us = g_get_real_time() - GST_CLOCK_DIFF(rt, now) / GST_USECOND;
	if (!pp.clock_started)
		clock_start();
	hostclock_pack(pkt, wall_us);
	buf = gst_buffer_new_memdup(pkt, sizeof(pkt));
	GST_BUFFER_PTS(buf) = rt;
	pp.clock_next = rt + HOSTCLOCK_INTERVAL_MS * GST_MSECOND;
	if (gst_pad_push(pp.clockpad, buf) != GST_FLOW_OK)
		log_debug("the mux took no clock packet");
	return GST_PAD_PROBE_OK;
}

/* The mux asks every input how late its data comes (its latency, and
 * whether it is live, decide when it stops waiting for an input): this
 * one is live and early, so the mux's latency stays what the video and
 * the sound make it. */
static gboolean
cb_clock_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
	if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
		return gst_pad_query_default(pad, parent, query);
	gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
	return TRUE;
}

/* A pad of no element feeds the mux: the packets come from the video's
 * thread (cb_clock), and a source element of their own would be one
 * more thread and one more source to stop. */
static void
build_clock(GstElement *mux)
{
	g_autofree char *name = g_strdup_printf("sink_%u", CLOCK_PID);
	g_autoptr(GstPad) sink = gst_element_request_pad_simple(mux, name);
	g_autoptr(GstPad) video = gst_element_get_static_pad(pp.vmuxq, "src");

	pp.clockpad = gst_pad_new("host-clock", GST_PAD_SRC);
	gst_pad_set_query_function(pp.clockpad, cb_clock_query);
	if (sink == NULL || gst_pad_link(pp.clockpad, sink) != GST_PAD_LINK_OK)
		errx(EX_SOFTWARE, "cannot link the host clock to the mux's %s", name);
	gst_pad_set_active(pp.clockpad, TRUE);
	gst_pad_add_probe(video, GST_PAD_PROBE_TYPE_BUFFER |
	    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, cb_clock, NULL, NULL);
}

/* Whether a PulseAudio server (or pipewire-pulse) answers: pulsesrc
 * connects when it opens, on the way to READY. */
static gboolean
audio_server_reachable(void)
{
	GstElement *src = make("pulsesrc", NULL);
	GstStateChangeReturn ret;

	ret = gst_element_set_state(src, GST_STATE_READY);
	gst_element_set_state(src, GST_STATE_NULL);
	gst_object_unref(src);
	return ret != GST_STATE_CHANGE_FAILURE;
}

/* The audio server's recording sources by name, and the monitor of its
 * default sink. "@DEFAULT_MONITOR@" is not used: pipewire-pulse takes it
 * for the default source, which is the microphone on most desktops. */
static void
audio_sources(GPtrArray *names, char **default_monitor)
{
	/* The PulseAudio provider alone: pulsesrc is what records, and
	 * the PipeWire provider of this era double-frees when stopped. */
	GstDeviceProvider *prov =
	    gst_device_provider_factory_get_by_name("pulsedeviceprovider");
	GList *devices;

	if (prov == NULL)
		return;
	/* Started, it also learns which sink is the default one. */
	if (!gst_device_provider_start(prov)) {
		gst_object_unref(prov);
		return;
	}
	devices = gst_device_provider_get_devices(prov);
	for (GList *l = devices; l != NULL; l = l->next) {
		GstDevice *dev = l->data;
		g_autoptr(GstStructure) props = gst_device_get_properties(dev);
		g_autofree char *name = NULL;
		gboolean is_default = FALSE;

		if (g_object_class_find_property(G_OBJECT_GET_CLASS(dev),
		    "internal-name") == NULL)
			continue;
		g_object_get(dev, "internal-name", &name, NULL);
		if (name == NULL)
			continue;
		if (props != NULL)
			gst_structure_get_boolean(props, "is-default",
			    &is_default);
		if (gst_device_has_classes(dev, "Audio/Source"))
			g_ptr_array_add(names, g_strdup(name));
		else if (is_default && gst_device_has_classes(dev, "Audio/Sink")
		    && *default_monitor == NULL)
			*default_monitor = g_strdup_printf("%s.monitor", name);
	}
	g_list_free_full(devices, gst_object_unref);
	gst_device_provider_stop(prov);
	gst_object_unref(prov);
}

/* What to record: the device asked for when it exists, else the default
 * sink's monitor. NULL (after saying why) when there is nothing to
 * record; exits when the device asked for does not exist. */
static char *
audio_pick_device(void)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	char *monitor = NULL;

	if (!audio_server_reachable()) {
		log_info("no audio server (PulseAudio or PipeWire) answers; streaming video only");
		pp.audio = g_strdup("none (no audio server)");
		pp.audio_source = "none";
		return NULL;
	}
	audio_sources(names, &monitor);
	if (audio_device != NULL) {
		/* A sink pp-capture made a moment ago may take the audio
		 * server a moment to show: look again for up to a second. */
		for (int tries = 0; tries < 10; tries++) {
			for (guint i = 0; i < names->len; i++)
				if (strcmp(names->pdata[i], audio_device) == 0) {
					g_free(monitor);
					return g_strdup(audio_device);
				}
			g_usleep(G_USEC_PER_SEC / 10);
			g_ptr_array_set_size(names, 0);
			g_clear_pointer(&monitor, g_free);
			audio_sources(names, &monitor);
		}
		g_free(monitor);
		g_ptr_array_add(names, NULL);
		g_autofree char *list = g_strjoinv(", ", (char **)names->pdata);
		errx(EX_UNAVAILABLE, "audio device %s does not exist; sources here: %s (or pass --no-audio)", audio_device, *list != '\0' ? list : "none");
	}
	if (monitor == NULL) {
		log_info("the audio server has no output device to record; streaming video only");
		pp.audio = g_strdup("none (no output device)");
		pp.audio_source = "none";
	}
	return monitor;
}

/* How far a recording's timestamps may stray from the pipeline's running
 * time before they are pulled back to it. */
#define AUDIO_STRAY (GST_SECOND)

/* pulsesrc stamps its buffers from its own ring-buffer clock, slaved to
 * the pipeline's. With two recordings mixed, a stream once came out as an
 * hour of silence written in seconds: the mixer fills any gap between its
 * inputs' timestamps. A buffer ends about when it arrives, so one that
 * ends far from now is moved there, and the buffers after it keep the
 * same shift. DATA: the shift, per source. */
static GstPadProbeReturn
cb_audio_stamp(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstClockTimeDiff *shift = data;
	GstElement *src = GST_PAD_PARENT(pad);
	GstClock *clock = gst_element_get_clock(src);
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTimeDiff pts, end, now, stray;

	if (clock == NULL || !GST_BUFFER_PTS_IS_VALID(buf)) {
		g_clear_object(&clock);
		return GST_PAD_PROBE_OK;
	}
	now = GST_CLOCK_DIFF(gst_element_get_base_time(src),
	    gst_clock_get_time(clock));
	gst_object_unref(clock);
	pts = (GstClockTimeDiff)GST_BUFFER_PTS(buf) + *shift;
	end = pts + (GST_BUFFER_DURATION_IS_VALID(buf) ?
	    (GstClockTimeDiff)GST_BUFFER_DURATION(buf) : 0);
	stray = now - end;
	if (stray > (GstClockTimeDiff)AUDIO_STRAY ||
	    stray < -(GstClockTimeDiff)AUDIO_STRAY) {
		log_debug("%s: timestamps %.3f s off the running time; restamped",
		    GST_OBJECT_NAME(src), (double)stray / GST_SECOND);
		*shift += stray;
		pts += stray;
		buf = gst_buffer_make_writable(buf);
		GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
	} else if (*shift == 0) {
		return GST_PAD_PROBE_OK;
	} else {
		buf = gst_buffer_make_writable(buf);
	}
	GST_BUFFER_PTS(buf) = MAX(pts, 0);
	GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	return GST_PAD_PROBE_OK;
}

/* A recording from the audio server, on the pipeline's clock. */
static GstElement *
pulse_source(const char *name, const char *client, const char *device)
{
	GstElement *src = make("pulsesrc", name);
	g_autoptr(GstPad) pad = gst_element_get_static_pad(src, "src");

	/* A roomy ring buffer rides out a busy machine; it adds no delay,
	 * samples are taken as soon as they come. Not a clock of its own:
	 * with two recordings, two audio clocks each slaved their own way;
	 * both follow the pipeline's (system) clock instead. */
	g_object_set(src, "client-name", client,
	    "buffer-time", (gint64)500000, "provide-clock", FALSE, NULL);
	if (device != NULL)
		g_object_set(src, "device", device, NULL);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_audio_stamp,
	    g_new0(GstClockTimeDiff, 1), g_free);
	return src;
}

static GstElement *
audio_branch(GstElement *src)
{
	GstElement *caps = capsfilter(gst_caps_new_simple("audio/x-raw",
	    "rate", G_TYPE_INT, 48000, "channels", G_TYPE_INT, 2, NULL));

	return chain(src, make("audioconvert", NULL),
	    make("audioresample", NULL), caps, NULL);
}

/* The sound: the test tone, or what DEVICE records; with --mic, the
 * default recording source mixed in. */
static void
build_audio(GstElement *mux, const char *device)
{
	GstElement *last, *src, *enc, *queue;

	if (device == NULL) {
		src = make("audiotestsrc", "audio-source");
		g_object_set(src, "is-live", TRUE, "freq", (double)tone,
		    "volume", 0.3, NULL);
		pp.audio = g_strdup_printf("test tone %u Hz", tone);
		pp.audio_source = "tone";
	} else {
		src = pulse_source("audio-source", "pp-encode", device);
		pp.audio = g_strdup(device);
		pp.audio_source = device;
	}
	last = audio_branch(src);
	if (mic) {
		GstElement *mix = make("audiomixer", NULL);
		GstElement *msrc = pulse_source("mic-source", "pp-encode-mic",
		    NULL);
		GstElement *mlast;
		char *desc;

		/* Output starts where the first input does, not at zero;
		 * a microphone that never delivers (a suspended device) is
		 * not waited for. */
		gst_util_set_object_arg(G_OBJECT(mix), "start-time-selection",
		    "first");
		g_object_set(mix, "ignore-inactive-pads", TRUE, NULL);
		mlast = audio_branch(msrc);
		gst_bin_add(GST_BIN(pp.pipe), mix);
		link_pair(last, mix);
		link_pair(mlast, mix);
		last = mix;
		desc = g_strdup_printf("%s + microphone", pp.audio);
		g_free(pp.audio);
		pp.audio = desc;
	}
	if ((enc = gst_element_factory_make("avenc_aac", NULL)) != NULL)
		g_object_set(enc, "bitrate", 128000, NULL);
	else
		enc = make("voaacenc", NULL);
	queue = make("queue", NULL);
	last = chain(last, make("queue", NULL), enc, make("aacparse", NULL),
	    capsfilter(gst_caps_new_simple("audio/mpeg",
	    "mpegversion", G_TYPE_INT, 4,
	    "stream-format", G_TYPE_STRING, "adts", NULL)), queue, NULL);
	link_pair(last, mux);
}

static void
build_pipeline(GstElement *enc)
{
	GstElement *mux, *sink;
	g_autofree char *device = NULL;
	gboolean audio = !no_audio;

	pp.pipe = gst_pipeline_new("pp-encode");
	/* The system's monotonic clock, not one a source offers: with
	 * the PipeWire clock, running time jumped by minutes under a
	 * screencast (minutes of duplicated frames); the audio sources
	 * follow whichever clock the pipeline uses. */
	GstClock *clock = gst_system_clock_obtain();
	gst_pipeline_use_clock(GST_PIPELINE(pp.pipe), clock);
	gst_object_unref(clock);
	mux = make("mpegtsmux", "mux");
	sink = make("fdsink", "sink");
	/* Live: write each packet as soon as it is muxed. */
	g_object_set(sink, "fd", pp.out, "sync", FALSE, NULL);
	chain(mux, sink, NULL);

	/* The test source has its tone, unless a device is named (as
	 * pp-capture does when it routes an application's sound). */
	if (no_audio) {
		pp.audio = g_strdup("none (--no-audio)");
		pp.audio_source = "none";
	} else if (source == SRC_TEST && audio_device == NULL) {
		if (mic && !audio_server_reachable()) {
			log_info("no audio server (PulseAudio or PipeWire) answers; no microphone");
			mic = FALSE;
		}
	} else if ((device = audio_pick_device()) == NULL) {
		audio = FALSE;
	}
	build_video(mux, enc);
	if (audio)
		build_audio(mux, device);
	build_clock(mux);
}

/* Whether the reader of our output has gone away (EPIPE on a pipe, a
 * hung-up socket): that ends the stream, it is not an error. */
static gboolean
reader_gone(void)
{
	struct pollfd p = { .fd = pp.out, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* Whether the reader keeps our output open but takes nothing more: the
 * pipe is full, so the end of the stream cannot be written. */
static gboolean
reader_stalled(void)
{
	struct pollfd p = { .fd = pp.out, .events = POLLOUT };

	return poll(&p, 1, 0) == 0;
}

/* The deadline after a stop. The pipeline is stuck by then, and tearing
 * it down could hang as well: exit from here. */
static gboolean
cb_drain_timeout(gpointer data)
{
	if (reader_gone())
		_exit(EX_OK);
	if (reader_stalled()) {
		/* Nobody reads: nobody misses the end of the stream. */
		log_info("the reader stopped reading, so the stream could not be finished; stopped");
		_exit(EX_OK);
	}
	warnx("the stream did not finish within %d s after the stop signal; the output may end mid-frame (run with -v to see why)", DRAIN_TIMEOUT);
	_exit(EX_SOFTWARE);
}

/* Sends EOS into the pipeline, from the source element (or, with PAST,
 * into the element after it). From a thread of its own: a source can hold
 * the locks that sending waits for (pipewiresrc at times, any source
 * blocked on a full output), and the main loop must stay free to keep the
 * deadline. */
static gpointer
eos_thread(gpointer data)
{
	GstElement *el = data;
	gboolean past = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(el),
	    "pp-eos-past"));

	if (past) {
		g_autoptr(GstPad) pad = gst_element_get_static_pad(el, "src");
		g_autoptr(GstPad) peer = pad != NULL ? gst_pad_get_peer(pad) :
		    NULL;

		if (peer != NULL)
			gst_pad_send_event(peer, gst_event_new_eos());
	} else {
		gst_element_send_event(el, gst_event_new_eos());
	}
	gst_object_unref(el);
	return NULL;
}

/* Ends the stream at every source and arms the deadline. PAST: every
 * source is done (the screen source ended), the EOS goes right past
 * them. A screencast gets it past pipewiresrc always: one whose node is
 * gone never hands EOS on, and at times pipewiresrc does not take it. */
static void
finish_stream(gboolean past)
{
	GstIterator *it;
	GValue v = G_VALUE_INIT;

	pp.stopping = TRUE;
	g_timeout_add_seconds(DRAIN_TIMEOUT, cb_drain_timeout, NULL);
	it = gst_bin_iterate_sources(GST_BIN(pp.pipe));
	while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
		GstElement *el = g_value_dup_object(&v);

		g_object_set_data(G_OBJECT(el), "pp-eos-past",
		    GINT_TO_POINTER(past || (el == pp.vsrc &&
		    source == SRC_PIPEWIRE)));
		g_thread_unref(g_thread_new("pp-eos", eos_thread, el));
		g_value_reset(&v);
	}
	g_value_unset(&v);
	gst_iterator_free(it);
}

static gboolean
cb_stop(gpointer data)
{
	if (pp.stopping && pp.stop_time != 0 &&
	    g_get_monotonic_time() - pp.stop_time < REPEAT_WINDOW) {
		log_debug("signal %d again: the same stop, still finishing", GPOINTER_TO_INT(data));
		return G_SOURCE_CONTINUE;
	}
	if (pp.stopping) {
		/* A second signal: the user does not want to wait. */
		log_info("a second stop signal: stopping without finishing the stream");
		g_main_loop_quit(pp.loop);
		return G_SOURCE_CONTINUE;
	}
	pp.stop_time = g_get_monotonic_time();
	if (g_atomic_int_get(&pp.frames) == 0) {
		/* Nothing streamed yet (a screencast still negotiating, say):
		 * nothing to finish, and EOS would wait for the first frame. */
		log_debug("signal %d before the first frame: stopping", GPOINTER_TO_INT(data));
		g_main_loop_quit(pp.loop);
		return G_SOURCE_CONTINUE;
	}
	log_debug("signal %d: finishing the stream", GPOINTER_TO_INT(data));
	finish_stream(FALSE);
	return G_SOURCE_CONTINUE;
}

static gboolean
cb_keyframe(gpointer data)
{
	/* all-headers: SPS/PPS with it, so a newcomer can start there. */
	log_debug("SIGUSR1: keyframe requested");
	if (layers > 1) {
		g_atomic_int_set(&pp.key_pending, ++pp.keyframes_asked);
		return G_SOURCE_CONTINUE;
	}
	gst_element_send_event(pp.parse,
	    gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE,
	    TRUE, ++pp.keyframes_asked));
	return G_SOURCE_CONTINUE;
}

/* When the screen source stops (the user pressed "stop sharing"), the
 * rest of the pipeline still holds frames: finish them. */
static void
end_from_source(const char *reason)
{
	status_event("source-ended", "reason", reason, NULL);
	pp.ended = TRUE;
	finish_stream(TRUE);
}

static gboolean
cb_window_gone(gpointer data)
{
	if (!pp.stopping) {
		log_info("the shared window was closed; finishing the stream");
		end_from_source("window-closed");
	}
	return G_SOURCE_REMOVE;
}

/* Xlib's default handler exits the process on any error, such as the
 * shared window being closed under ximagesrc (BadWindow): that window
 * ending is the user ending the share, so the stream ends cleanly. This
 * runs in ximagesrc's thread: only flag it and let the main loop act. */
static int
cb_x_error(Display *dpy, XErrorEvent *ev)
{
	if (window_id != 0 && ev->resourceid == window_id) {
		if (!g_atomic_int_get(&pp.window_gone)) {
			g_atomic_int_set(&pp.window_gone, 1);
			g_idle_add_full(G_PRIORITY_HIGH, cb_window_gone, NULL,
			    NULL);
		}
	} else {
		log_debug("X error %d on resource 0x%lx ignored",
		    ev->error_code, ev->resourceid);
	}
	return 0;
}

/* The connection to the X server is gone: Xlib exits when this returns,
 * so say why first. */
static int
cb_x_io_error(Display *dpy)
{
	warnx("the X display closed the connection; the stream ends unfinished");
	_exit(EX_UNAVAILABLE);
}

static int
cb_x_error_ignore(Display *dpy, XErrorEvent *ev)
{
	return 0;
}

/* Before anything else: the display opens and the window exists, so
 * that a typo gets one clear line rather than a pipeline error. */
static void
x11_check(void)
{
	const char *name = display != NULL ? display : env("DISPLAY");
	XWindowAttributes attrs;
	Display *dpy;

	if ((dpy = XOpenDisplay(name)) == NULL)
		errx(EX_UNAVAILABLE, "cannot open X display %s: is it running, and may this user connect to it?", name);
	if (window_id != 0) {
		XErrorHandler old = XSetErrorHandler(cb_x_error_ignore);
		Status ok = XGetWindowAttributes(dpy, window_id, &attrs);

		XSetErrorHandler(old);
		if (!ok)
			errx(EX_UNAVAILABLE, "no window 0x%llx on X display %s: pick one with xwininfo", (unsigned long long)window_id, name);
	}
	XCloseDisplay(dpy);
}

/* GStreamer's messages are sentences; ours go on after them. */
static char *
without_dot(const char *msg)
{
	char *s = g_strdup(msg);
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	return s;
}

static const char *
error_hint(GstMessage *msg)
{
	const char *name = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));

	if (strcmp(name, "video-source") == 0) {
		if (source == SRC_X11)
			return "is the X display in PP_DISPLAY or DISPLAY running, and the window there?";
		if (source == SRC_PIPEWIRE)
			return "check the PipeWire fd (--pipewire-fd) and node (--node)";
	}
	if (strcmp(name, "audio-source") == 0 || strcmp(name, "mic-source") == 0)
		return "check --audio-device, or pass --no-audio";
	if (strcmp(name, "sink") == 0)
		return "check the output file or pipe";
	return "run with -v for details";
}

static gboolean
cb_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *debug = NULL, *text = NULL;
	GstObject *from = GST_MESSAGE_SRC(msg);

	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_EOS:
		if (!pp.stopping) {
			log_info("the source ended the stream");
			status_event("source-ended", "reason", "eos", NULL);
		}
		g_main_loop_quit(pp.loop);
		break;
	case GST_MESSAGE_ERROR:
		gst_message_parse_error(msg, &error, &debug);
		log_debug("error from %s: %s (%s)", GST_OBJECT_NAME(from),
		    error->message, debug != NULL ? debug : "");
		if (strcmp(GST_OBJECT_NAME(from), "sink") == 0 &&
		    reader_gone()) {
			log_debug("the reader went away; stopping");
			g_main_loop_quit(pp.loop);
			break;
		}
		/* pipewiresrc reports the end of a screencast (the user
		 * stopped sharing) as an error once it has streamed. */
		if (GST_ELEMENT(from) == pp.vsrc && source == SRC_PIPEWIRE &&
		    g_atomic_int_get(&pp.frames) > 0 && !pp.stopping) {
			log_info("the screencast ended (%s); finishing the stream", error->message);
			end_from_source("screencast-ended");
			break;
		}
		if (pp.ended)	/* more of the same while draining */
			break;
		if (g_atomic_int_get(&pp.window_gone)) {
			/* ximagesrc failing on the closed window */
			cb_window_gone(NULL);
			break;
		}
		text = without_dot(error->message);
		warnx("%s: %s; %s", GST_OBJECT_NAME(from), text,
		    error_hint(msg));
		pp.status = error->domain == GST_CORE_ERROR ? EX_SOFTWARE :
		    EX_UNAVAILABLE;
		g_main_loop_quit(pp.loop);
		break;
	case GST_MESSAGE_WARNING:
		gst_message_parse_warning(msg, &error, &debug);
		log_debug("warning from %s: %s", GST_OBJECT_NAME(from),
		    error->message);
		break;
	default:
		break;
	}
	return G_SOURCE_CONTINUE;
}

/* Stopping the pipeline waits for each of its threads; one stuck in a
 * source (a screencast still negotiating, say) must not keep us here. */
static gpointer
teardown_watchdog(gpointer data)
{
	g_usleep(TEARDOWN_TIMEOUT * G_USEC_PER_SEC);
	log_debug("the pipeline did not stop within %d s; exiting anyway", TEARDOWN_TIMEOUT);
	_exit(pp.status);
}

static char *
working_encoders(const EncoderSettings *s)
{
	GString *list = g_string_new(NULL);

	for (const char *const *n = encoder_names(); *n != NULL; n++) {
		g_autofree char *why = NULL;

		if (encoder_probe(*n, s, &why))
			g_string_append_printf(list, "%s%s",
			    list->len ? ", " : "", *n);
	}
	if (list->len == 0)
		g_string_append(list, "none (install gstreamer1.0-plugins-ugly for x264enc)");
	return g_string_free(list, FALSE);
}

static void
list_encoders(const EncoderSettings *s)
{
	for (const char *const *n = encoder_names(); *n != NULL; n++) {
		g_autofree char *why = NULL;

		if (encoder_probe(*n, s, &why))
			printf("%-13s works\n", *n);
		else
			printf("%-13s unusable: %s\n", *n, why);
	}
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	enum { O_SOURCE = 256, O_BITRATE, O_FPS, O_KEYINT, O_MAXSIZE,
	    O_ENCODER, O_LIST, O_TONE, O_DISPLAY, O_WINDOW, O_CURSOR,
	    O_PWFD, O_NODE, O_AUDIODEV, O_NOAUDIO, O_MIC, O_LAYERS, O_STATUS };
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, O_SOURCE },
		{ "bitrate", required_argument, NULL, O_BITRATE },
		{ "fps", required_argument, NULL, O_FPS },
		{ "keyint", required_argument, NULL, O_KEYINT },
		{ "max-size", required_argument, NULL, O_MAXSIZE },
		{ "encoder", required_argument, NULL, O_ENCODER },
		{ "list-encoders", no_argument, NULL, O_LIST },
		{ "tone", required_argument, NULL, O_TONE },
		{ "display", required_argument, NULL, O_DISPLAY },
		{ "window-id", required_argument, NULL, O_WINDOW },
		{ "cursor", required_argument, NULL, O_CURSOR },
		{ "pipewire-fd", required_argument, NULL, O_PWFD },
		{ "node", required_argument, NULL, O_NODE },
		{ "audio-device", required_argument, NULL, O_AUDIODEV },
		{ "no-audio", no_argument, NULL, O_NOAUDIO },
		{ "mic", no_argument, NULL, O_MIC },
		{ "layers", required_argument, NULL, O_LAYERS },
		{ "status-fd", required_argument, NULL, O_STATUS },
		{ "verbose", no_argument, NULL, 'v' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	gboolean list = FALSE, tone_set = FALSE, x11_set = FALSE;
	gboolean pw_set = FALSE, pulse_set = FALSE;
	EncoderSettings es = { 0 };
	GstElement *enc;
	g_autoptr(GstBus) bus = NULL;
	g_autofree char *why = NULL;
	sigset_t early;
	int ch;

	log_init();
	/* First of all: a keyframe request (pp-fanout sends one as soon as
	 * a viewer joins, maybe while we start) must never kill us. It is
	 * held until the handlers exist, which is after the options: GLib's
	 * signal handling opens descriptors of its own, and --status-fd
	 * must find only the caller's. The handlers run once the main loop
	 * does. */
	sigemptyset(&early);
	sigaddset(&early, SIGTERM);
	sigaddset(&early, SIGINT);
	sigaddset(&early, SIGUSR1);
	sigprocmask(SIG_BLOCK, &early, NULL);
	read_env();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			outfile = optarg;
			break;
		case 'v':
			log_set_verbose(TRUE);
			break;
		case O_SOURCE:
			source = parse_source("--source", optarg);
			break;
		case O_BITRATE:
			bitrate = opt_number("--bitrate", optarg, 100, 200000);
			break;
		case O_FPS:
			fps = opt_number("--fps", optarg, 1, 240);
			break;
		case O_KEYINT:
			keyint = opt_number("--keyint", optarg, 1, 3600);
			break;
		case O_MAXSIZE:
			parse_size("--max-size", optarg, &max_w, &max_h);
			break;
		case O_ENCODER:
			encoder = optarg;
			break;
		case O_LIST:
			list = TRUE;
			break;
		case O_TONE:
			tone = opt_number("--tone", optarg, 20, 20000);
			tone_set = TRUE;
			break;
		case O_DISPLAY:
			display = optarg;
			x11_set = TRUE;
			break;
		case O_WINDOW:
			window_id = parse_xid("--window-id", optarg);
			x11_set = TRUE;
			break;
		case O_CURSOR:
			cursor_hidden = parse_cursor("--cursor", optarg);
			x11_set = TRUE;
			break;
		case O_PWFD:
			pipewire_fd = opt_number("--pipewire-fd", optarg, 0,
			    INT_MAX);
			pw_set = TRUE;
			break;
		case O_NODE:
			node = optarg;
			pw_set = TRUE;
			break;
		case O_AUDIODEV:
			audio_device = optarg;
			pulse_set = TRUE;
			break;
		case O_NOAUDIO:
			no_audio = TRUE;
			break;
		case O_MIC:
			mic = TRUE;
			pulse_set = TRUE;
			break;
		case O_LAYERS:
			layers = opt_number("--layers", optarg, 1, 2);
			break;
		case O_STATUS:
			status_open(optarg);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, "o:vh", longopts);
		}
	}
	g_unix_signal_add(SIGTERM, cb_stop, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, cb_stop, GINT_TO_POINTER(SIGINT));
	g_unix_signal_add(SIGUSR1, cb_keyframe, NULL);
	sigprocmask(SIG_UNBLOCK, &early, NULL);
	argc -= optind;
	argv += optind;
	if (argc != 0)
		opt_usage(usage_text, EX_USAGE);

	gst_init(NULL, NULL);
	es = (EncoderSettings){ .bitrate = bitrate, .fps = fps,
	    .keyint = fps * keyint, .width = 640, .height = 360,
	    .screen = TRUE };
	if (list) {
		list_encoders(&es);
		return EX_OK;
	}

	if (encoder != NULL && !encoder_known(encoder)) {
		g_autofree char *ok = working_encoders(&es);

		errx(EX_UNAVAILABLE, "unknown encoder %s; working encoders here: %s", encoder, ok);
	}
	if (source < 0) {
		if (display == NULL && env("DISPLAY") == NULL)
			errx(EX_USAGE, "no source: pass --source test, x11 or pipewire (or set PP_SOURCE or DISPLAY)");
		source = SRC_X11;
	}
	if (tone_set && source != SRC_TEST)
		errx(EX_USAGE, "--tone works with --source test only");
	if (x11_set && source != SRC_X11)
		errx(EX_USAGE, "--display, --window-id and --cursor work with --source x11 only");
	if (pw_set && source != SRC_PIPEWIRE)
		errx(EX_USAGE, "--pipewire-fd and --node work with --source pipewire only");
	if (tone_set && audio_device != NULL)
		errx(EX_USAGE, "--tone and --audio-device exclude each other: the test source records one or plays the other");
	if (pulse_set && no_audio)
		errx(EX_USAGE, "--no-audio contradicts --audio-device and --mic");
	if (source == SRC_X11 && display == NULL && env("DISPLAY") == NULL)
		errx(EX_USAGE, "no X display: set PP_DISPLAY or DISPLAY, or pass --display");
	if (source == SRC_PIPEWIRE && pipewire_fd == -2)
		/* pp-capture hands the portal's PipeWire remote on fd 3;
		 * without it, the user's own PipeWire daemon. */
		pipewire_fd = fcntl(3, F_GETFD) != -1 ? 3 : -1;
	else if (source == SRC_PIPEWIRE && fcntl(pipewire_fd, F_GETFD) == -1)
		errx(EX_USAGE, "--pipewire-fd %d: not an open file descriptor", pipewire_fd);

	if (outfile != NULL && strcmp(outfile, "-") != 0) {
		if ((pp.out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0666)) == -1)
			errx(EX_CANTCREAT, "cannot create %s: %s; check the directory and its permissions, or pass another -o", outfile, strerror(errno));
	} else if (isatty(STDOUT_FILENO)) {
		errx(EX_USAGE, "stdout is a terminal: pipe it into a player (pp-encode | mpv -) or pass -o FILE");
	}
	/* A reader that goes away shows up as EPIPE on the sink (handled
	 * on the bus), not as a signal that kills us mid-write. */
	signal(SIGPIPE, SIG_IGN);

	if (source == SRC_TEST) {
		fit_size(test_w, test_h, &es.width, &es.height);
		es.screen = FALSE;
	}
	if (encoder != NULL) {
		if (!encoder_probe(encoder, &es, &why)) {
			g_autofree char *ok = working_encoders(&es);

			errx(EX_UNAVAILABLE, "encoder %s is not usable here (%s); working encoders here: %s", encoder, why, ok);
		}
		pp.encoder = encoder;
	} else if ((pp.encoder = encoder_pick(&es)) == NULL) {
		errx(EX_UNAVAILABLE, "no working H.264 encoder; install gstreamer1.0-plugins-ugly (x264enc)");
	}
	g_clear_pointer(&why, g_free);
	pp.es = es;
	if (layers > 1)	/* scene cuts would put keyframes apart */
		es.fixed_gop = pp.es.fixed_gop = TRUE;
	if ((enc = encoder_make(pp.encoder, &es, &why)) == NULL)
		errx(EX_UNAVAILABLE, "encoder %s: %s", pp.encoder, why);
	if (source == SRC_X11) {
		x11_check();
		XSetErrorHandler(cb_x_error);
		XSetIOErrorHandler(cb_x_io_error);
	}
	build_pipeline(enc);

	pp.loop = g_main_loop_new(NULL, FALSE);
	bus = gst_element_get_bus(pp.pipe);
	gst_bus_add_watch(bus, cb_bus, NULL);

	if (gst_element_set_state(pp.pipe, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE) {
		/* The element that failed posts why on the bus. */
		g_autoptr(GstMessage) msg = gst_bus_timed_pop_filtered(bus,
		    2 * GST_SECOND, GST_MESSAGE_ERROR);
		g_autoptr(GError) error = NULL;

		if (msg == NULL)
			errx(EX_UNAVAILABLE, "the GStreamer pipeline did not start; run with -v for details");
		gst_message_parse_error(msg, &error, NULL);
		g_autofree char *text = without_dot(error->message);
		errx(EX_UNAVAILABLE, "%s: %s; %s",
		    GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), text,
		    error_hint(msg));
	}
	g_main_loop_run(pp.loop);

	g_thread_unref(g_thread_new("pp-watchdog", teardown_watchdog, NULL));
	gst_element_set_state(pp.pipe, GST_STATE_NULL);
	gst_bus_remove_watch(bus);
	gst_object_unref(pp.pipe);
	gst_pad_set_active(pp.clockpad, FALSE);
	gst_object_unref(pp.clockpad);
	g_main_loop_unref(pp.loop);
	g_free(pp.audio);
	if (pp.out != STDOUT_FILENO && close(pp.out) == -1 && pp.status == 0)
		err(EX_IOERR, "%s", outfile);
	return pp.status;
}
