/* pp-view: a live pixelpass stream (MPEG-TS on stdin or from a URL) in a
 * window, with the least delay GStreamer gives, and kept live: what
 * arrives late is dropped, never played at 1x behind the host. */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include <gst/base/gstbasesrc.h>
#include <gst/video/navigation.h>
#include <gst/video/videooverlay.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>

#include "decoder.h"
#include "hostclock.h"
#include "log.h"
#include "opt.h"

static gboolean stats;			/* --stats */
static gboolean no_audio;		/* --no-audio */
static gboolean fullscreen;		/* --fullscreen, toggled by f */
static const char *title = "pixelpass";	/* --title */
static const char *decoder;		/* --decoder, NULL: probe */
static const char *sink_name;		/* --sink, NULL: by the display */
static gboolean check_only;		/* --check */
static const char *url;			/* the argument, NULL: stdin */

/* The pipeline's latency: how long a picture may take from the demuxer
 * to the screen before it counts as late and is dropped. It absorbs the
 * jitter of the network and of decoding; every millisecond of it is also
 * a millisecond behind the host. A choice, not a measurement: decoding
 * 720p takes 3 ms here, and tens of milliseconds of jitter on Wi-Fi are
 * common. */
#define LATENCY_MS 50
/* A video sink drops a picture later than this (basesink's default for
 * video, stated here because staying live depends on it). */
#define MAX_LATENESS_MS 20
/* Decoded pictures waiting for the sink, at most; older ones are dropped
 * so that a slow display never puts the picture behind. */
#define SINK_QUEUE_MS 100
/* The audio device's buffer: small, so sound stays with the picture. */
#define AUDIO_BUFFER_US 40000
#define AUDIO_PERIOD_US 10000

static struct {
	GMainLoop *loop;
	GstElement *pipe;
	GstElement *vsink, *volume, *vqueue;
	const char *decoder;
	const char *asink;	/* the audio sink's factory, NULL: none */
	int status;
	Display *dpy;		/* our own window, for the X11 sinks */
	Window win;
	Atom wm_delete;
	int win_w, win_h;
	gboolean sized;		/* the window has the stream's size */
	/* --stats, touched by streaming threads under lock */
	GMutex lock;
	GHashTable *arrival;	/* PTS -> clock time out of the demuxer */
	GArray *delays;		/* ms, of the pictures of this second */
	GArray *decodes;	/* ms from the demuxer out of the decoder */
	guint64 received, vq_in, vq_out;
	guint64 shown, late;	/* reached the video sink in time, or not */
	GHashTable *qos_dropped;	/* element name -> frames it dropped */
	GstElement *src, *demux;
	gint64 offset;		/* the sinks' ts-offset */
	gboolean offset_set;
	GstElement *asink_el;	/* the audio sink, once there is sound */
	char *no_sound_why;	/* why no audio sink opened */
	GstClockTimeDiff lead_max;	/* of this window's pictures */
	guint lead_n;
	/* The host's clock (lib/hostclock.h): its latest packet, which
	 * maps the stream's PTS to the host's wall time. */
	gboolean host_stream;	/* the demuxer found the clock's stream */
	gboolean host_known;	/* ... and a packet of it */
	GstClockTime host_pts;
	gint64 host_wall_us;
	GArray *behind;		/* ms, of the pictures of this second */
	GstElement *overlay;	/* textoverlay, shown with s */
	gboolean overlay_on;
} V = { .status = EX_SOFTWARE };

static const char usage_text[] =
    "usage: pp-view [--stats] [--no-audio] [--fullscreen] [--title title]\n"
    "               [--decoder name] [--sink name] [- | url]\n"
    "       pp-view --check [--no-audio] [--decoder name] [--sink name] [url]\n"
    "       pp-view --help | --version\n";

/* The Debian package that has FACTORY. */
static const char *
package_of(const char *factory)
{
	static const struct { const char *f, *pkg; } pkgs[] = {
		{ "typefind", "libgstreamer1.0-0" },
		{ "queue", "libgstreamer1.0-0" },
		{ "fdsrc", "libgstreamer1.0-0" },
		{ "fakesink", "libgstreamer1.0-0" },
		{ "tsdemux", "gstreamer1.0-plugins-bad" },
		{ "h264parse", "gstreamer1.0-plugins-bad" },
		{ "waylandsink", "gstreamer1.0-plugins-bad" },
		{ "avdec_h264", "gstreamer1.0-libav" },
		{ "avdec_aac", "gstreamer1.0-libav" },
		{ "ximagesink", "gstreamer1.0-x" },
		{ "xvimagesink", "gstreamer1.0-x" },
		{ "souphttpsrc", "gstreamer1.0-plugins-good" },
		{ "capssetter", "gstreamer1.0-plugins-good" },
		{ "aacparse", "gstreamer1.0-plugins-good" },
		{ "pulsesink", "gstreamer1.0-plugins-good" },
		{ "videoconvert", "gstreamer1.0-plugins-base" },
		{ "audioconvert", "gstreamer1.0-plugins-base" },
		{ "audioresample", "gstreamer1.0-plugins-base" },
		{ "volume", "gstreamer1.0-plugins-base" },
		{ "appsrc", "gstreamer1.0-plugins-base" },
		{ "textoverlay", "gstreamer1.0-plugins-base" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(pkgs); i++)
		if (strcmp(pkgs[i].f, factory) == 0)
			return pkgs[i].pkg;
	return NULL;
}

static G_NORETURN void
missing(const char *factory)
{
	const char *pkg = package_of(factory);

	if (pkg == NULL)	/* a --decoder or --sink of the user's */
		errx(EX_UNAVAILABLE, "GStreamer element %s is missing (gst-inspect-1.0 lists those there are)",
		    factory);
	errx(EX_UNAVAILABLE, "GStreamer element %s is missing; install %s",
	    factory, pkg);
}

/* The element, or exit 69 naming the package that has it. */
static GstElement *
make(const char *factory)
{
	GstElement *el = gst_element_factory_make(factory, NULL);

	if (el == NULL)
		missing(factory);
	return el;
}

static void
require(const char *factory)
{
	GstElementFactory *f = gst_element_factory_find(factory);

	if (f == NULL)
		missing(factory);
	gst_object_unref(f);
}

/* Adds the elements to the pipeline and links them in a row; returns
 * the first. */
static GstElement *
chain(GstElement *first, ...)
{
	va_list ap;
	GstElement *prev = first, *el;

	gst_bin_add(GST_BIN(V.pipe), first);
	va_start(ap, first);
	while ((el = va_arg(ap, GstElement *)) != NULL) {
		gst_bin_add(GST_BIN(V.pipe), el);
		if (!gst_element_link(prev, el))
			errx(EX_SOFTWARE, "cannot link %s to %s",
			    GST_OBJECT_NAME(prev), GST_OBJECT_NAME(el));
		prev = el;
	}
	va_end(ap);
	return first;
}

/* Brings SINK to READY, where a video sink opens its display and an
 * audio sink its device; on failure *why says what the sink said. */
static gboolean
sink_opens(GstElement *sink, char **why)
{
	g_autoptr(GstBus) bus = gst_bus_new();
	g_autoptr(GstMessage) msg = NULL;
	GError *error = NULL;

	gst_element_set_bus(sink, bus);
	if (gst_element_set_state(sink, GST_STATE_READY) != GST_STATE_CHANGE_FAILURE) {
		gst_element_set_bus(sink, NULL);
		return TRUE;
	}
	msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	if (msg != NULL)
		gst_message_parse_error(msg, &error, NULL);
	*why = g_strdup(error != NULL ? error->message : "it cannot start");
	g_clear_error(&error);
	gst_element_set_state(sink, GST_STATE_NULL);
	gst_element_set_bus(sink, NULL);
	return FALSE;
}

/* The video sink for this display, in READY; exits 69 when there is no
 * display or none of the sinks can open it. The X sinks come first even
 * in a Wayland session when XWayland is there (DISPLAY set): waylandsink
 * (1.22, and still 1.26) reports no keys, so its window could not be
 * quit with q, made fullscreen with f, or muted with m. */
static GstElement *
video_sink(void)
{
	static const char *const wayland[] = { "waylandsink", NULL };
	static const char *const x11[] = { "xvimagesink", "ximagesink", NULL };
	const char *const *names;
	const char *one[] = { sink_name, NULL };
	const char *wd = getenv("WAYLAND_DISPLAY"), *xd = getenv("DISPLAY");
	g_autofree char *why = NULL;

	if (sink_name != NULL)
		names = one;
	else if (xd != NULL && *xd != '\0')
		names = x11;
	else if (wd != NULL && *wd != '\0')
		names = wayland;
	else
		errx(EX_UNAVAILABLE, "no display: neither WAYLAND_DISPLAY nor DISPLAY is set (pp-view shows the stream in a window)");
	for (; *names != NULL; names++) {
		GstElement *sink = gst_element_factory_make(*names, "video-sink");

		if (sink == NULL) {
			if (names[1] == NULL)
				require(*names);
			continue;
		}
		g_clear_pointer(&why, g_free);
		if (sink_opens(sink, &why))
			return sink;
		log_debug("%s: %s", *names, why);
		gst_object_unref(sink);
	}
	errx(EX_UNAVAILABLE, "cannot open the display %s: %s",
	    xd != NULL && *xd != '\0' ? xd : wd != NULL ? wd : "", why);
}

/* pulsesink (PulseAudio, or PipeWire's pulse server) in READY, or NULL
 * with one warning when there is no sound server to play to. */
static GstElement *
audio_sink(void)
{
	GstElement *sink = make("pulsesink");
	g_autofree char *why = NULL;

	g_object_set(sink, "buffer-time", (gint64)AUDIO_BUFFER_US,
	    "latency-time", (gint64)AUDIO_PERIOD_US, "client-name", "pp-view",
	    NULL);
	if (sink_opens(sink, &why))
		return sink;
	gst_object_unref(sink);
	/* Said once the stream turns out to have sound. */
	V.no_sound_why = g_steal_pointer(&why);
	return NULL;
}

/* --- the window (X11 sinks) ------------------------------------------------ */

/* The X sinks' own windows have no fullscreen and no title of ours:
 * pp-view makes the window and hands it to the sink, which draws in it
 * and still reports keys as navigation messages. */
static void
window_fullscreen(gboolean on)
{
	Window root = DefaultRootWindow(V.dpy);
	Atom state = XInternAtom(V.dpy, "_NET_WM_STATE", False);
	Atom fs = XInternAtom(V.dpy, "_NET_WM_STATE_FULLSCREEN", False);
	Atom check = XInternAtom(V.dpy, "_NET_SUPPORTING_WM_CHECK", True);
	Atom type;
	int format;
	unsigned long n = 0, left;
	unsigned char *prop = NULL;
	XEvent ev = { 0 };

	if (check != None)
		XGetWindowProperty(V.dpy, root, check, 0, 1, False, XA_WINDOW,
		    &type, &format, &n, &left, &prop);
	if (prop != NULL)
		XFree(prop);
	if (n == 0) {
		/* No window manager (Xvfb): cover the screen ourselves. */
		if (on)
			XMoveResizeWindow(V.dpy, V.win, 0, 0,
			    DisplayWidth(V.dpy, DefaultScreen(V.dpy)),
			    DisplayHeight(V.dpy, DefaultScreen(V.dpy)));
		else
			XResizeWindow(V.dpy, V.win, V.win_w, V.win_h);
	} else {
		ev.xclient.type = ClientMessage;
		ev.xclient.window = V.win;
		ev.xclient.message_type = state;
		ev.xclient.format = 32;
		ev.xclient.data.l[0] = on ? 1 : 0;
		ev.xclient.data.l[1] = fs;
		ev.xclient.data.l[3] = 1;
		XSendEvent(V.dpy, root, False,
		    SubstructureRedirectMask | SubstructureNotifyMask, &ev);
	}
	XFlush(V.dpy);
}

static gboolean
cb_x_events(int fd, GIOCondition cond, gpointer data)
{
	while (XPending(V.dpy) > 0) {
		XEvent ev;

		XNextEvent(V.dpy, &ev);
		if (ev.type == ClientMessage &&
		    (Atom)ev.xclient.data.l[0] == V.wm_delete) {
			log_debug("window closed");
			V.status = 0;
			g_main_loop_quit(V.loop);
		}
	}
	return G_SOURCE_CONTINUE;
}

static void
window_open(void)
{
	if ((V.dpy = XOpenDisplay(NULL)) == NULL)
		errx(EX_UNAVAILABLE, "cannot open the display %s", XDisplayName(NULL));
	V.win_w = 640;
	V.win_h = 360;
	V.win = XCreateSimpleWindow(V.dpy, DefaultRootWindow(V.dpy), 0, 0,
	    V.win_w, V.win_h, 0, 0, BlackPixel(V.dpy, DefaultScreen(V.dpy)));
	XStoreName(V.dpy, V.win, title);
	V.wm_delete = XInternAtom(V.dpy, "WM_DELETE_WINDOW", False);
	XSetWMProtocols(V.dpy, V.win, &V.wm_delete, 1);
	if (fullscreen) {
		/* A window manager reads this when it maps the window. */
		Atom fs = XInternAtom(V.dpy, "_NET_WM_STATE_FULLSCREEN", False);

		XChangeProperty(V.dpy, V.win, XInternAtom(V.dpy, "_NET_WM_STATE", False),
		    XA_ATOM, 32, PropModeReplace, (unsigned char *)&fs, 1);
	}
	XMapRaised(V.dpy, V.win);
	if (fullscreen)
		window_fullscreen(TRUE);
	XFlush(V.dpy);
	gst_video_overlay_set_window_handle(GST_VIDEO_OVERLAY(V.vsink), V.win);
	g_unix_fd_add(ConnectionNumber(V.dpy), G_IO_IN, cb_x_events, NULL);
}

/* The window takes the stream's size once it is known (main thread). */
static gboolean
cb_window_size(gpointer data)
{
	GstCaps *caps = data;
	GstStructure *st = gst_caps_get_structure(caps, 0);
	int w, h;

	if (gst_structure_get_int(st, "width", &w) &&
	    gst_structure_get_int(st, "height", &h) && V.dpy != NULL) {
		V.win_w = MIN(w, DisplayWidth(V.dpy, DefaultScreen(V.dpy)));
		V.win_h = MIN(h, DisplayHeight(V.dpy, DefaultScreen(V.dpy)));
		if (!fullscreen)
			XResizeWindow(V.dpy, V.win, V.win_w, V.win_h);
		XFlush(V.dpy);
	}
	gst_caps_unref(caps);
	return G_SOURCE_REMOVE;
}

static void
toggle_fullscreen(void)
{
	fullscreen = !fullscreen;
	if (V.dpy != NULL)
		window_fullscreen(fullscreen);
	else if (g_object_class_find_property(G_OBJECT_GET_CLASS(V.vsink),
	    "fullscreen") != NULL)
		g_object_set(V.vsink, "fullscreen", fullscreen, NULL);
}

/* --- the schedule, and the measurements of --stats -------------------------- */

static GstClockTime
clock_now(void)
{
	g_autoptr(GstClock) clock = gst_element_get_clock(V.pipe);

	return clock != NULL ? gst_clock_get_time(clock) : GST_CLOCK_TIME_NONE;
}

/* Moves both sinks' schedules by V.offset (under V.lock). */
static void
apply_offset(void)
{
	g_object_set(V.vsink, "ts-offset", V.offset, NULL);
	if (V.asink_el != NULL)
		g_object_set(V.asink_el, "ts-offset", V.offset, NULL);
}

/* How many pictures make a window over which the schedule is checked. */
#define REALIGN_PICTURES 30
/* Smaller moves are jitter, not a change of the path: the schedule stays
 * put rather than jump by a few milliseconds every second. */
#define REALIGN_MIN_MS 10

/* Keeps the schedule on the earliest arrivals. A picture's lead is how
 * long before its due time less the latency it arrives: 0 for the
 * earliest is the aim, so that the whole latency is left for the jitter
 * of the others. The first buffer set the offset (cb_lead), but it may
 * have come late, an IDR picture bigger than the rest, and the path may
 * change: after each window the schedule moves towards the lead of the
 * window's earliest picture. A stall alone does not move it back: the
 * burst after it ends with pictures on time. */
static void
realign(GstPad *pad, GstBuffer *buf, GstClockTime now)
{
	g_autoptr(GstEvent) ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
	const GstSegment *seg;
	GstClockTime rt;
	GstClockTimeDiff lead, shift = 0;

	if (ev == NULL || !V.offset_set)
		return;
	gst_event_parse_segment(ev, &seg);
	rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
	if (!GST_CLOCK_TIME_IS_VALID(rt))
		return;
	lead = (GstClockTimeDiff)rt + V.offset -
	    GST_CLOCK_DIFF(gst_element_get_base_time(V.demux), now);
	if (V.lead_n++ == 0)
		V.lead_max = lead;
	V.lead_max = MAX(V.lead_max, lead);
	if (V.lead_n < REALIGN_PICTURES)
		return;
	/* Earlier by half the lead at a time: a stream's first seconds are
	 * uneven (the encoder starting, tsdemux learning the clock), and a
	 * full step overshot, dropping pictures (pp-encode: 71 ms earlier,
	 * then 48 ms later). Later at once: pictures are being dropped. */
	if (V.lead_max > REALIGN_MIN_MS * GST_MSECOND)
		shift = V.lead_max / 2;
	else if (V.lead_max < -REALIGN_MIN_MS * GST_MSECOND)
		shift = V.lead_max;
	V.lead_n = 0;
	if (shift == 0)
		return;
	V.offset -= shift;
	log_debug("pictures arrive %.0f ms %s than scheduled: schedule moved",
	    (double)ABS(shift) / GST_MSECOND, shift > 0 ? "earlier" : "later");
	apply_offset();
}

/* A picture is complete out of the demuxer: it has arrived. */
static GstPadProbeReturn
cb_arrived(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime now = clock_now();

	g_mutex_lock(&V.lock);
	V.received++;
	/* Pictures dropped on the way leave their entries: a bound. */
	if (g_hash_table_size(V.arrival) > 1000)
		g_hash_table_remove_all(V.arrival);
	if (GST_BUFFER_PTS_IS_VALID(buf) && GST_CLOCK_TIME_IS_VALID(now)) {
		g_hash_table_insert(V.arrival, GSIZE_TO_POINTER(GST_BUFFER_PTS(buf)),
		    GSIZE_TO_POINTER(now));
		realign(pad, buf, now);
	}
	g_mutex_unlock(&V.lock);
	return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
cb_count(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	g_mutex_lock(&V.lock);
	(*(guint64 *)data)++;
	g_mutex_unlock(&V.lock);
	return GST_PAD_PROBE_OK;
}

/* A picture out of the decoder: how long parsing and decoding took. */
static GstPadProbeReturn
cb_decoded(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime now = clock_now();
	gpointer value;

	if (!GST_BUFFER_PTS_IS_VALID(buf) || !GST_CLOCK_TIME_IS_VALID(now))
		return GST_PAD_PROBE_OK;
	g_mutex_lock(&V.lock);
	if (g_hash_table_lookup_extended(V.arrival,
	    GSIZE_TO_POINTER(GST_BUFFER_PTS(buf)), NULL, &value)) {
		double ms = (double)GST_CLOCK_DIFF(GPOINTER_TO_SIZE(value), now) /
		    GST_MSECOND;

		g_array_append_val(V.decodes, ms);
	}
	g_mutex_unlock(&V.lock);
	return GST_PAD_PROBE_OK;
}

/* A picture reaches the video sink. With sync on, the sink shows it at
 * its running time plus the latency on the pipeline clock, or at once if
 * that has passed and it is not too late to show at all: that instant,
 * less its arrival, is the delay --stats reports. */
static GstPadProbeReturn
cb_at_sink(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	g_autoptr(GstEvent) ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
	GstClockTime now = clock_now(), due, arrived;
	gint64 wall_us = g_get_real_time();
	const GstSegment *seg;
	gpointer value;

	if (ev == NULL || !GST_BUFFER_PTS_IS_VALID(buf) ||
	    !GST_CLOCK_TIME_IS_VALID(now))
		return GST_PAD_PROBE_OK;
	gst_event_parse_segment(ev, &seg);
	due = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
	if (!GST_CLOCK_TIME_IS_VALID(due))
		return GST_PAD_PROBE_OK;
	due += gst_element_get_base_time(V.vsink) +
	    gst_base_sink_get_latency(GST_BASE_SINK(V.vsink));
	g_mutex_lock(&V.lock);
	due += V.offset;
	if (now > due + MAX_LATENESS_MS * GST_MSECOND) {
		V.late++;
		g_hash_table_remove(V.arrival, GSIZE_TO_POINTER(GST_BUFFER_PTS(buf)));
	} else {
		V.shown++;
		if (g_hash_table_steal_extended(V.arrival,
		    GSIZE_TO_POINTER(GST_BUFFER_PTS(buf)), NULL, &value)) {
			arrived = GPOINTER_TO_SIZE(value);
			double ms = (double)GST_CLOCK_DIFF(arrived, MAX(now, due)) / GST_MSECOND;

			g_array_append_val(V.delays, ms);
		}
		if (V.host_known) {
			/* Our wall clock when the picture is shown, less the
			 * host's when it was grabbed: its PTS mapped through
			 * the latest clock packet. */
			gint64 shown_us = wall_us + GST_CLOCK_DIFF(now, MAX(now, due)) / GST_USECOND;
			gint64 host_us = V.host_wall_us +
			    GST_CLOCK_DIFF(V.host_pts, GST_BUFFER_PTS(buf)) / GST_USECOND;
			double ms = (double)(shown_us - host_us) / 1000;

			g_array_append_val(V.behind, ms);
		}
	}
	g_mutex_unlock(&V.lock);
	return GST_PAD_PROBE_OK;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "M ms median, X ms max" of A, which is emptied; NULL when empty. */
static char *
summary(GArray *a)
{
	double *d = (double *)a->data;
	char *s;

	if (a->len == 0)
		return NULL;
	qsort(d, a->len, sizeof(double), cmp_double);
	s = g_strdup_printf("%.0f ms median, %.0f ms max", d[a->len / 2],
	    d[a->len - 1]);
	g_array_set_size(a, 0);
	return s;
}

/* The pictures dropped so far (under V.lock): the sink's (counted here:
 * its own statistics start again at each new segment), the decoder's
 * (its QoS messages) and the leaky queue's (what went in and neither
 * came out nor waits). */
static guint64
dropped_count(guint queued)
{
	guint64 leaked = V.vq_in - V.vq_out - MIN(queued, V.vq_in - V.vq_out);
	guint64 dropped = V.late + leaked;
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, V.qos_dropped);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		log_debug("%s dropped %" G_GSIZE_FORMAT, (char *)k, GPOINTER_TO_SIZE(v));
		dropped += GPOINTER_TO_SIZE(v);
	}
	log_debug("dropped at the sink %" G_GUINT64_FORMAT ", leaked by the queue %" G_GUINT64_FORMAT,
	    V.late, leaked);
	return dropped;
}

/* How far behind the host this second's pictures were shown, for the
 * line of --stats (under V.lock, which empties V.behind). */
static char *
behind_summary(void)
{
	char *s;

	if (!V.host_known)
		return g_strdup(V.host_stream ? "unknown (no packet of the host clock yet)" :
		    "unknown (the stream carries no host clock)");
	s = summary(V.behind);
	return s != NULL ? s : g_strdup("none this second");
}

/* The overlay's text: the last second's median, and what was dropped. */
static void
overlay_update(guint64 dropped)
{
	g_autofree char *text = NULL;
	double *d = (double *)V.behind->data;

	if (!V.host_known) {
		text = g_strdup_printf("behind the host: unknown\ndropped %" G_GUINT64_FORMAT, dropped);
	} else if (V.behind->len == 0) {
		text = g_strdup_printf("behind the host: no picture this second\ndropped %" G_GUINT64_FORMAT, dropped);
	} else {
		qsort(d, V.behind->len, sizeof(double), cmp_double);
		text = g_strdup_printf("behind the host: %.0f ms\ndropped %" G_GUINT64_FORMAT,
		    d[V.behind->len / 2], dropped);
	}
	g_object_set(V.overlay, "text", text, NULL);
}

/* The overlay's text now, from the main thread. */
static void
overlay_refresh(void)
{
	guint queued = 0;

	if (V.vqueue != NULL)
		g_object_get(V.vqueue, "current-level-buffers", &queued, NULL);
	g_mutex_lock(&V.lock);
	overlay_update(V.vqueue != NULL ? dropped_count(queued) : 0);
	g_mutex_unlock(&V.lock);
}

/* s: the overlay on or off. Hidden, textoverlay passes the pictures on
 * untouched (its "silent"): the video path pays for it only when it is
 * shown. */
static void
toggle_overlay(void)
{
	if (V.overlay == NULL) {
		log_info("no overlay: GStreamer's textoverlay is missing; install gstreamer1.0-plugins-base");
		return;
	}
	V.overlay_on = !V.overlay_on;
	if (V.overlay_on)
		overlay_refresh();
	g_object_set(V.overlay, "silent", !V.overlay_on, NULL);
}

/* Once a second: the overlay when it is shown, the lines of --stats. */
static gboolean
cb_stats(gpointer data)
{
	guint64 dropped = 0;
	guint queued = 0;
	g_autofree char *delay = NULL, *decode = NULL, *behind = NULL;

	if (V.vqueue == NULL) {
		if (stats)
			log_info("stats: no picture yet");
		return G_SOURCE_CONTINUE;
	}
	g_object_get(V.vqueue, "current-level-buffers", &queued, NULL);
	g_mutex_lock(&V.lock);
	if (stats || V.overlay_on)
		dropped = dropped_count(queued);
	if (V.overlay_on)
		overlay_update(dropped);
	/* Emptied every second, shown or not. */
	delay = summary(V.delays);
	decode = summary(V.decodes);
	behind = behind_summary();
	if (stats) {
		log_info("stats: received %" G_GUINT64_FORMAT ", shown %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT ", decoder %s, arrival to decoded %s, arrival to display %s",
		    V.received, V.shown, dropped, V.decoder,
		    decode != NULL ? decode : "none this second",
		    delay != NULL ? delay : "none this second");
		/* A line of its own: readers of the line above match it
		 * whole. */
		log_info("behind the host: %s", behind);
	}
	g_mutex_unlock(&V.lock);
	return G_SOURCE_CONTINUE;
}

/* --- the pipeline ---------------------------------------------------------- */

static void
probe(GstElement *el, const char *pad, GstPadProbeCallback cb, gpointer data)
{
	g_autoptr(GstPad) p = gst_element_get_static_pad(el, pad);

	gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, cb, data, NULL);
}

static GstPadProbeReturn
cb_video_caps(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
	GstCaps *caps;

	if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS && !V.sized) {
		V.sized = TRUE;
		gst_event_parse_caps(ev, &caps);
		g_idle_add(cb_window_size, gst_caps_ref(caps));
	}
	return GST_PAD_PROBE_OK;
}

/* tsdemux -> queue -> capssetter -> h264parse -> decoder -> leaky queue
 * -> videoconvert -> sink.
 *
 * mpegtsmux writes one access unit per PES, so a picture is whole as
 * soon as its PES is. capssetter says so (alignment=au): h264parse then
 * passes each PES on at once; told nothing, it parses a byte stream and
 * holds each picture until the next one starts, a frame interval late.
 *
 * The first queue lets the demuxer go on with the sound while the
 * decoder works; it never drops, since a missing picture would break
 * the ones that refer to it. The second holds decoded pictures only, up
 * to SINK_QUEUE_MS, leaking the oldest. */
static void
link_video(GstPad *pad)
{
	GstElement *q = make("queue"), *cs = make("capssetter"),
	    *parse = make("h264parse"), *vq = make("queue"),
	    *conv = make("videoconvert"), *dec;
	g_autofree char *why = NULL;
	g_autoptr(GstPad) sinkpad = NULL;
	g_autoptr(GstCaps) au = gst_caps_from_string("video/x-h264,alignment=au");

	if ((dec = decoder_make(V.decoder, &why)) == NULL)
		errx(EX_SOFTWARE, "decoder %s: %s", V.decoder, why);
	g_object_set(q, "max-size-buffers", 0, "max-size-bytes", 0,
	    "max-size-time", (guint64)2 * GST_SECOND, NULL);
	g_object_set(cs, "caps", au, "join", TRUE, "replace", FALSE, NULL);
	g_object_set(vq, "max-size-buffers", 0, "max-size-bytes", 0,
	    "max-size-time", (guint64)SINK_QUEUE_MS * GST_MSECOND,
	    "leaky", 2 /* downstream: the oldest go */, NULL);
	V.vqueue = vq;
	chain(q, cs, parse, dec, vq, NULL);
	/* The overlay of s (toggle_overlay), on the decoded picture, where
	 * its formats are; optional, as only the key needs it. */
	if ((V.overlay = gst_element_factory_make("textoverlay", NULL)) != NULL) {
		g_object_set(V.overlay, "silent", TRUE, "shaded-background", TRUE,
		    "font-desc", "Sans Bold 14", "line-alignment", 0 /* left */, NULL);
		gst_util_set_object_arg(G_OBJECT(V.overlay), "halignment", "left");
		gst_util_set_object_arg(G_OBJECT(V.overlay), "valignment", "top");
		chain(vq, V.overlay, conv, NULL);
	} else {
		chain(vq, conv, NULL);
	}
	if (!gst_element_link(conv, V.vsink))
		errx(EX_SOFTWARE, "cannot link videoconvert to %s",
		    GST_OBJECT_NAME(V.vsink));
	probe(vq, "sink", cb_count, &V.vq_in);
	probe(vq, "src", cb_count, &V.vq_out);
	probe(dec, "src", cb_decoded, NULL);
	sinkpad = gst_element_get_static_pad(V.vsink, "sink");
	gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, cb_at_sink, NULL, NULL);
	gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
	    cb_video_caps, NULL, NULL);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_arrived, NULL, NULL);
	gst_element_sync_state_with_parent(V.vsink);
	if (V.overlay != NULL)
		gst_element_sync_state_with_parent(V.overlay);
	for (GstElement *const *e = (GstElement *[]){ conv, vq, dec, parse, cs, q, NULL }; *e; e++)
		gst_element_sync_state_with_parent(*e);
	g_clear_object(&sinkpad);
	sinkpad = gst_element_get_static_pad(q, "sink");
	if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
		errx(EX_SOFTWARE, "cannot link the demuxer's video");
}

/* tsdemux -> queue -> aacparse -> avdec_aac -> audioconvert ->
 * audioresample -> volume (m mutes) -> the audio sink, or fakesink when
 * there is nowhere to play. */
static void
link_audio(GstPad *pad, GstElement *sink)
{
	GstElement *q = make("queue"), *parse = make("aacparse"),
	    *dec = make("avdec_aac"), *conv = make("audioconvert"),
	    *res = make("audioresample");
	g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(q, "sink");

	V.volume = make("volume");
	g_object_set(q, "max-size-buffers", 0, "max-size-bytes", 0,
	    "max-size-time", (guint64)2 * GST_SECOND, NULL);
	chain(q, parse, dec, conv, res, V.volume, sink, NULL);
	for (GstElement *const *e = (GstElement *[]){ sink, V.volume, res, conv, dec, parse, q, NULL }; *e; e++)
		gst_element_sync_state_with_parent(*e);
	if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
		errx(EX_SOFTWARE, "cannot link the demuxer's audio");
}

/* A muxer stamps each picture ahead of the clock reference (PCR) that
 * goes with it, to give a player's buffer time to fill: mpegtsmux by
 * 125 ms, ffmpeg's by 700 ms. tsdemux maps the stream's time onto ours
 * through the PCR, so every picture would wait that long on top of the
 * latency. The first buffer of the stream says how far ahead: both
 * sinks' schedules (ts-offset) move back by that much. Moving the
 * demuxer's pads instead (gst_pad_set_offset) re-sends their sticky
 * events, and avdec_h264 then lost its reference pictures: grey
 * garbage until the next keyframe, in 3 runs of 5. */
static GstPadProbeReturn
cb_lead(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	g_autoptr(GstEvent) ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
	GstClockTime now = clock_now(), rt;
	const GstSegment *seg;

	if (ev == NULL || !GST_BUFFER_PTS_IS_VALID(buf) ||
	    !GST_CLOCK_TIME_IS_VALID(now))
		return GST_PAD_PROBE_OK;
	gst_event_parse_segment(ev, &seg);
	rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
	if (!GST_CLOCK_TIME_IS_VALID(rt))
		return GST_PAD_PROBE_OK;
	g_mutex_lock(&V.lock);
	if (!V.offset_set) {
		V.offset_set = TRUE;
		V.offset = -GST_CLOCK_DIFF(now - gst_element_get_base_time(V.demux), rt);
		log_debug("the stream is stamped %.0f ms ahead of its arrival",
		    (double)-V.offset / GST_MSECOND);
		apply_offset();
	}
	g_mutex_unlock(&V.lock);
	return GST_PAD_PROBE_REMOVE;
}

/* A packet of the host's clock out of the demuxer: the latest maps the
 * PTS of the pictures to the host's wall time (cb_at_sink). */
static GstPadProbeReturn
cb_host_clock(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstMapInfo map;
	gint64 wall_us;

	if (!GST_BUFFER_PTS_IS_VALID(buf) || !gst_buffer_map(buf, &map, GST_MAP_READ))
		return GST_PAD_PROBE_OK;
	if (hostclock_parse(map.data, map.size, &wall_us)) {
		g_mutex_lock(&V.lock);
		if (!V.host_known)
			log_debug("the stream carries the host's clock");
		V.host_known = TRUE;
		V.host_pts = GST_BUFFER_PTS(buf);
		V.host_wall_us = wall_us;
		g_mutex_unlock(&V.lock);
	}
	gst_buffer_unmap(buf, &map);
	return GST_PAD_PROBE_OK;
}

/* tsdemux -> fakesink, the packets read on the way (cb_host_clock). */
static void
link_host_clock(GstPad *pad)
{
	GstElement *sink = make("fakesink");
	g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(sink, "sink");

	g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
	g_mutex_lock(&V.lock);
	V.host_stream = TRUE;
	g_mutex_unlock(&V.lock);
	gst_bin_add(GST_BIN(V.pipe), sink);
	gst_element_sync_state_with_parent(sink);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_host_clock, NULL, NULL);
	if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
		errx(EX_SOFTWARE, "cannot link the demuxer's host clock");
}

static void
cb_pad_added(GstElement *demux, GstPad *pad, gpointer data)
{
	g_autoptr(GstCaps) caps = gst_pad_query_caps(pad, NULL);
	const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));

	if (strcmp(name, "meta/x-klv") == 0) {
		link_host_clock(pad);
		return;
	}
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_lead, NULL, NULL);
	if (strcmp(name, "video/x-h264") == 0 && V.vqueue == NULL) {
		link_video(pad);
	} else if (strcmp(name, "audio/mpeg") == 0 && V.volume == NULL && !no_audio) {
		GstElement *sink = V.asink != NULL ? make(V.asink) : make("fakesink");

		if (V.asink == NULL)
			log_info("no sound server to play to (%s): video only",
			    V.no_sound_why);
		g_object_set(sink, "sync", TRUE, NULL);
		if (V.asink != NULL)
			g_object_set(sink, "buffer-time", (gint64)AUDIO_BUFFER_US,
			    "latency-time", (gint64)AUDIO_PERIOD_US,
			    "client-name", "pp-view", NULL);
		g_mutex_lock(&V.lock);
		V.asink_el = sink;
		g_object_set(sink, "ts-offset", V.offset, NULL);
		g_mutex_unlock(&V.lock);
		link_audio(pad, sink);
	} else {
		log_debug("ignoring the stream %s (%s)", GST_PAD_NAME(pad), name);
	}
}

/* The input must be MPEG-TS: anything else is a usage mistake that
 * would otherwise end in a demuxer quietly finding nothing. */
static void
cb_have_type(GstElement *typefind, guint prob, GstCaps *caps, gpointer data)
{
	const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));

	if (strcmp(name, "video/mpegts") != 0)
		GST_ELEMENT_ERROR(typefind, STREAM, WRONG_TYPE,
		    ("the input is not an MPEG-TS stream (it looks like %s)", name),
		    (NULL));
}

static void
build(GstElement *asink)
{
	GstElement *src, *typefind, *demux;

	V.pipe = gst_pipeline_new("pp-view");
	if (url != NULL) {
		src = make("souphttpsrc");
		g_object_set(src, "location", url, "is-live", TRUE,
		    "do-timestamp", TRUE, NULL);
	} else {
		src = make("fdsrc");
		g_object_set(src, "fd", STDIN_FILENO, "do-timestamp", TRUE, NULL);
		/* A pipe from pp-tunnel is a live source: no preroll, and
		 * pictures are shown against the clock as they arrive. */
		gst_base_src_set_live(GST_BASE_SRC(src), TRUE);
	}
	typefind = make("typefind");
	g_signal_connect(typefind, "have-type", G_CALLBACK(cb_have_type), NULL);
	V.demux = demux = make("tsdemux");
	/* tsdemux's 700 ms default is the delay players show; the
	 * pipeline's latency (below) is the only budget. */
	g_object_set(demux, "latency", 0, NULL);
	g_signal_connect(demux, "pad-added", G_CALLBACK(cb_pad_added), NULL);
	V.src = src;
	chain(src, typefind, demux, NULL);

	/* Staying live: the sinks show each picture at its time on the
	 * pipeline clock plus LATENCY_MS, and drop what comes later than
	 * MAX_LATENESS_MS past that (the audio sink likewise skips late
	 * samples), telling the decoder by QoS to skip too. After a stall
	 * the burst that follows is late as a whole and is dropped, so the
	 * first picture shown is the newest. tsdemux may instead take the
	 * gap for a jump of the stream's clock and stamp the burst as if it
	 * began now: then the leaky queue before the sink drops all but its
	 * last 100 ms, and realign() pulls the schedule back within a
	 * second. Measured with a 2-s stall (tests/view.sh): the burst's
	 * pictures dropped, the next second's shown 40 ms after arrival.
	 * Showing everything at once (sync off) was the other choice: it
	 * plays a burst fast instead of dropping it, and the sound, which
	 * must be clocked, then drifts from the picture. */
	g_object_set(V.vsink, "sync", TRUE, "qos", TRUE,
	    "max-lateness", (gint64)MAX_LATENESS_MS * GST_MSECOND, NULL);
	gst_bin_add(GST_BIN(V.pipe), V.vsink);
	gst_pipeline_set_latency(GST_PIPELINE(V.pipe), LATENCY_MS * GST_MSECOND);
	if (asink != NULL) {
		V.asink = GST_OBJECT_NAME(gst_element_get_factory(asink));
		/* Made again where the sound is, if there is any. */
		gst_element_set_state(asink, GST_STATE_NULL);
		gst_object_unref(asink);
	}
}

/* --- the bus, keys and signals --------------------------------------------- */

static void
on_key(const char *key)
{
	if (strcmp(key, "q") == 0) {
		V.status = 0;
		g_main_loop_quit(V.loop);
	} else if (strcmp(key, "f") == 0) {
		toggle_fullscreen();
	} else if (strcmp(key, "s") == 0) {
		toggle_overlay();
	} else if (strcmp(key, "m") == 0 && V.volume != NULL) {
		gboolean mute;

		g_object_get(V.volume, "mute", &mute, NULL);
		g_object_set(V.volume, "mute", !mute, NULL);
	}
}

static void
on_error(GstMessage *msg)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *debug = NULL;
	GstObject *src = GST_MESSAGE_SRC(msg);

	gst_message_parse_error(msg, &error, &debug);
	log_debug("%s: %s", GST_OBJECT_NAME(src), debug != NULL ? debug : "");
	if (src == GST_OBJECT(V.vsink) &&
	    g_error_matches(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND)) {
		/* waylandsink: "Output window was closed". */
		log_debug("window closed");
		V.status = 0;
	} else if (src == GST_OBJECT(V.src)) {
		/* souphttpsrc says no more than "Internal data stream error"
		 * when nothing listens. */
		V.status = EX_UNAVAILABLE;
		warnx("cannot read the stream from %s: %s",
		    url != NULL ? url : "stdin", error->message);
	} else if (error->domain == GST_STREAM_ERROR) {
		V.status = EX_DATAERR;
		if (g_error_matches(error, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND) ||
		    g_error_matches(error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE) ||
		    g_error_matches(error, GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX)) {
			if (strstr(error->message, "MPEG-TS") != NULL)
				warnx("%s", error->message);
			else
				warnx("the input is not an MPEG-TS stream (%s)", error->message);
		} else {
			warnx("the stream is broken: %s (from %s)", error->message,
			    GST_OBJECT_NAME(src));
		}
	} else if (error->domain == GST_RESOURCE_ERROR) {
		/* A display or sound server that went away. */
		V.status = EX_UNAVAILABLE;
		warnx("%s: %s", GST_OBJECT_NAME(src), error->message);
	} else {
		V.status = EX_SOFTWARE;
		warnx("%s: %s", GST_OBJECT_NAME(src), error->message);
	}
	g_main_loop_quit(V.loop);
}

static gboolean
cb_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
	GstEvent *ev = NULL;
	const char *key;

	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_EOS:
		log_debug("end of stream");
		V.status = 0;
		g_main_loop_quit(V.loop);
		break;
	case GST_MESSAGE_ERROR:
		on_error(msg);
		break;
	case GST_MESSAGE_QOS: {
		GstFormat format;
		guint64 processed, dropped;

		/* Pictures the decoder or the video sink dropped for being
		 * late; the audio sink counts samples, not frames. */
		gst_message_parse_qos_stats(msg, &format, &processed, &dropped);
		if (format == GST_FORMAT_BUFFERS && dropped != (guint64)-1) {
			g_mutex_lock(&V.lock);
			if (GST_MESSAGE_SRC(msg) != GST_OBJECT(V.vsink))
				g_hash_table_insert(V.qos_dropped,
				    g_strdup(GST_MESSAGE_SRC_NAME(msg)),
				    GSIZE_TO_POINTER(dropped));
			g_mutex_unlock(&V.lock);
		}
		break;
	}
	case GST_MESSAGE_ELEMENT:
		if (gst_navigation_message_get_type(msg) == GST_NAVIGATION_MESSAGE_EVENT &&
		    gst_navigation_message_parse_event(msg, &ev)) {
			if (gst_navigation_event_get_type(ev) == GST_NAVIGATION_EVENT_KEY_PRESS &&
			    gst_navigation_event_parse_key_event(ev, &key))
				on_key(key);
			gst_event_unref(ev);
		}
		break;
	default:
		break;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
cb_quit_signal(gpointer data)
{
	log_debug("signal %d: stopping", GPOINTER_TO_INT(data));
	V.status = 0;
	g_main_loop_quit(V.loop);
	return G_SOURCE_CONTINUE;
}

/* Everything pp-view needs, or exit 69 naming the first thing missing. */
static GstElement *
check(void)
{
	static const char *const needed[] = { "typefind", "tsdemux",
	    "queue", "capssetter", "h264parse", "videoconvert", NULL };
	static const char *const audio[] = { "aacparse", "avdec_aac",
	    "audioconvert", "audioresample", "volume", "pulsesink", NULL };

	require(url != NULL ? "souphttpsrc" : "fdsrc");
	for (const char *const *n = needed; *n != NULL; n++)
		require(*n);
	for (const char *const *n = audio; *n != NULL && !no_audio; n++)
		require(*n);
	if (decoder != NULL) {
		g_autofree char *why = NULL;

		require(decoder);
		if (!decoder_probe(decoder, &why))
			errx(EX_UNAVAILABLE, "the decoder %s does not work here: %s",
			    decoder, why);
		V.decoder = decoder;
	} else if ((V.decoder = decoder_pick()) == NULL) {
		errx(EX_UNAVAILABLE, "no H.264 decoder works here; install gstreamer1.0-libav");
	}
	return video_sink();
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "no-audio", no_argument, NULL, 'A' },
		{ "fullscreen", no_argument, NULL, 'f' },
		{ "title", required_argument, NULL, 't' },
		{ "decoder", required_argument, NULL, 'd' },
		{ "sink", required_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'c' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	g_autoptr(GstBus) bus = NULL;
	GstElement *asink = NULL;
	int ch;

	log_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			stats = TRUE;
			break;
		case 'A':
			no_audio = TRUE;
			break;
		case 'f':
			fullscreen = TRUE;
			break;
		case 't':
			title = optarg;
			break;
		case 'd':
			decoder = optarg;
			break;
		case 'S':
			sink_name = optarg;
			break;
		case 'c':
			check_only = TRUE;
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

	if (argc > 1)
		opt_usage(usage_text, EX_USAGE);
	if (argc == 1 && strcmp(argv[0], "-") != 0)
		url = argv[0];
	if (url != NULL && !g_str_has_prefix(url, "http://") &&
	    !g_str_has_prefix(url, "https://"))
		errx(EX_USAGE, "%s: expected - (stdin) or an http:// URL such as pp-bridge prints", url);
	if (url == NULL && !check_only && isatty(STDIN_FILENO))
		errx(EX_USAGE, "stdin is a terminal: pipe an MPEG-TS stream into pp-view, or give a URL");

	gst_init(NULL, NULL);
	g_set_application_name(title);
	V.vsink = check();
	if (!no_audio && !check_only)
		asink = audio_sink();
	if (!check_only && strcmp(GST_OBJECT_NAME(gst_element_get_factory(V.vsink)), "waylandsink") == 0)
		log_info("waylandsink takes no keys (q, f, m and s need XWayland): stop with Ctrl-C or by closing the window");
	if (check_only) {
		gst_element_set_state(V.vsink, GST_STATE_NULL);
		gst_object_unref(V.vsink);
		return 0;
	}

	g_mutex_init(&V.lock);
	V.arrival = g_hash_table_new(NULL, NULL);
	V.delays = g_array_new(FALSE, FALSE, sizeof(double));
	V.decodes = g_array_new(FALSE, FALSE, sizeof(double));
	V.behind = g_array_new(FALSE, FALSE, sizeof(double));
	V.qos_dropped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	signal(SIGPIPE, SIG_IGN);
	build(asink);
	V.loop = g_main_loop_new(NULL, FALSE);
	if (GST_IS_VIDEO_OVERLAY(V.vsink) &&
	    g_str_has_suffix(GST_OBJECT_NAME(gst_element_get_factory(V.vsink)), "ximagesink"))
		window_open();
	g_unix_signal_add(SIGTERM, cb_quit_signal, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, cb_quit_signal, GINT_TO_POINTER(SIGINT));
	g_timeout_add_seconds(1, cb_stats, NULL);
	bus = gst_element_get_bus(V.pipe);
	gst_bus_add_watch(bus, cb_bus, NULL);
	log_debug("decoder %s, video sink %s, audio %s", V.decoder,
	    GST_OBJECT_NAME(gst_element_get_factory(V.vsink)),
	    no_audio ? "off" : V.asink != NULL ? V.asink : "none");
	if (gst_element_set_state(V.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);

		if (msg != NULL)
			on_error(msg);
		else
			errx(EX_SOFTWARE, "the pipeline did not start");
	} else {
		g_main_loop_run(V.loop);
	}

	gst_element_set_state(V.pipe, GST_STATE_NULL);
	gst_bus_remove_watch(bus);
	gst_object_unref(V.pipe);
	g_main_loop_unref(V.loop);
	if (V.dpy != NULL)
		XCloseDisplay(V.dpy);
	g_hash_table_unref(V.arrival);
	g_hash_table_unref(V.qos_dropped);
	g_array_unref(V.delays);
	g_array_unref(V.decodes);
	g_array_unref(V.behind);
	g_free(V.no_sound_why);
	return V.status;
}
