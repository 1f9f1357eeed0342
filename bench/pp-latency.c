/*
 * pp-latency: the two ends of the glass-to-decode benchmark (bench/latency
 * and bench/join).
 *
 *	pp-latency clock [-N] [-d display] [-b block]
 *		draws this machine's wall clock into an X window covering the
 *		screen, as a strip of black and white blocks in its top left
 *		corner, redrawn every millisecond, until killed; -N also fills
 *		a quarter of the screen with fresh noise 30 times a second, so
 *		that the encoder needs all of its bit rate
 *	pp-latency read [-n frames] [-s skip] [-t threads] [-r WxH] [-b block]
 *	    [-W width]
 *		decodes MPEG-TS on stdin (tsdemux ! h264parse ! avdec_h264
 *		max-threads=threads ! appsink), or with -r reads raw 8-bit
 *		grey frames of W by H pixels (what another decoder made), and
 *		reads the clock back from each frame as soon as it is decoded;
 *		-W names the clock's screen width, so that a picture narrower
 *		than it (a stream's smaller layer) is read as a scaled copy
 *	pp-latency grab [-n frames] [-s skip] [-f fps] [-b block] display
 *		finds the strip on an X screen (where a player shows the
 *		decoded stream), then grabs only the strip (ximagesrc at fps,
 *		default 100) and reads the clock from each new picture: what
 *		a person sees, glass to glass; pointed at the clock's own
 *		screen, it measures what the grab itself costs
 *	pp-latency beep [-d device]
 *		plays a tick (10 ms of 1 kHz) every 2 s into a PulseAudio
 *		sink (the default, or device) until killed: the host's sound
 *	pp-latency listen [-n ticks] [-s skip] reference device
 *		records two PulseAudio sources, the monitors of the sink beep
 *		plays into (what the host hears) and of the viewer's player's
 *		sink (what the viewer hears), and times each tick the viewer
 *		hears against the host's: the delay of the sound, as grab's is
 *		of the picture, so that the two give the offset between them
 *
 * The strip: row 0 holds BITS bits of the time (units of 10 us, modulo
 * 2^BITS), one block each, most significant first; row 1 holds their
 * complements, so a damaged or half-decoded picture is recognised rather
 * than misread. Both ends use CLOCK_REALTIME on one machine (network
 * namespaces share it): latency = decoded - drawn. The drawn time is
 * taken before the strip is drawn, so a frame grabbed between two
 * redraws counts up to one redraw period (1 ms) late.
 *
 * read prints, at the end of the stream or after -n frames:
 *	frames N bad B undecodable U first_ms F p50 X p95 Y max Z
 * frames and the statistics count good frames after the first -s; bad
 * counts pictures whose strip did not read; undecodable counts pictures
 * before the first good one (bad ones, and the decoder's errors and
 * warnings); first_ms is the wall clock (ms since the epoch) when the
 * first picture was decoded. With PP_LATENCY_LOG=file, each good frame's
 * latency is appended to file, one per line, with the wall clock (ms since
 * the epoch) when it was counted and the decoded picture's width (0 for
 * grab and listen): "LATENCY_MS WALL_MS WIDTH".
 *
 * grab counts a picture when the time in the strip differs from the last
 * grab's (the player drew a new one), at the time the grab reached us: a
 * picture is seen up to one grab period late (10 ms at 100 fps; 5 ms on
 * average), plus the grab's own cost. It ends after -n pictures, or when
 * no new one came for 10 s.
 *
 * listen counts a tick where the sound rises above an eighth of full
 * scale after 200 ms of quiet, at the time its buffer reached us less the
 * samples after it (10 ms buffers), and prints what read prints, a tick
 * for a picture (bad and undecodable are 0). Both sides are recorded the
 * same way in one process, so what recording costs cancels out.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "opt.h"

#define BITS		40
#define UNIT_US		10
#define TICK_S		2	/* beep: a tick every TICK_S seconds */
#define LISTEN_RATE	48000

static const char *display_name;	/* -d: X display, or audio device */
static int noise;			/* -N: a noisy quarter screen */
static long long block = 16;		/* -b: block side, pixels */
static long long screen_w;		/* -W: the clock's screen width */
static long long max_frames;		/* -n: stop after this many */
static long long skip_frames;		/* -s: not counted */
static long long threads = 1;		/* -t: decoder threads, 0 = auto */
static long long raw_w, raw_h;		/* -r: raw grey frames */
static long long grab_fps = 100;	/* -f: grabs per second */

static struct {
	double	*lat;
	size_t	 n, cap;
	long long seen, bad, undecodable;
	double	 first_ms;
	int	 good_yet;
	int	 width;		/* of the picture being counted */
	FILE	*log;
} st;

static uint64_t
now_units(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000) / UNIT_US;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char usage_text[] =
    "usage: pp-latency clock [-N] [-d display] [-b block]\n"
    "       pp-latency read [-n frames] [-s skip] [-t threads] [-r WxH] [-b block]\n"
    "                       [-W width]\n"
    "       pp-latency grab [-n frames] [-s skip] [-f fps] [-b block] display\n"
    "       pp-latency beep [-d device]\n"
    "       pp-latency listen [-n ticks] [-s skip] reference device\n"
    "       pp-latency -h | --help | --version\n";

static void __attribute__((noreturn))
usage(void)
{
	opt_usage(usage_text, EX_USAGE);
}

static int
run_clock(void)
{
	Display *dpy;
	Window win;
	GC gc;
	XSetWindowAttributes swa;
	int scr, w, h;
	unsigned long black, white, grey;
	unsigned tick = 0;
	XImage *img = NULL;
	uint32_t rnd = 2463534242u;
	uint64_t next_noise = 0;

	if ((dpy = XOpenDisplay(display_name)) == NULL)
		errx(EX_UNAVAILABLE, "cannot open the X display %s; start Xvfb first", XDisplayName(display_name));
	scr = DefaultScreen(dpy);
	w = DisplayWidth(dpy, scr);
	h = DisplayHeight(dpy, scr);
	black = BlackPixel(dpy, scr);
	white = WhitePixel(dpy, scr);
	grey = 0x606060;
	swa.override_redirect = True;
	swa.background_pixel = grey;
	win = XCreateWindow(dpy, RootWindow(dpy, scr), 0, 0, w, h, 0,
	    CopyFromParent, InputOutput, CopyFromParent,
	    CWOverrideRedirect | CWBackPixel, &swa);
	XMapRaised(dpy, win);
	gc = XCreateGC(dpy, win, 0, NULL);
	if (noise) {
		char *data = malloc((size_t)(w / 2) * (h / 2) * 4);

		if (data == NULL)
			err(EX_OSERR, "malloc");
		img = XCreateImage(dpy, DefaultVisual(dpy, scr),
		    DefaultDepth(dpy, scr), ZPixmap, 0, data, w / 2, h / 2,
		    32, 0);
	}
	XSync(dpy, False);
	for (;;) {
		uint64_t t = now_units();

		for (int i = 0; i < BITS; i++) {
			int bit = (t >> (BITS - 1 - i)) & 1;

			XSetForeground(dpy, gc, bit ? white : black);
			XFillRectangle(dpy, win, gc, i * block, 0, block, block);
			XSetForeground(dpy, gc, bit ? black : white);
			XFillRectangle(dpy, win, gc, i * block, block, block,
			    block);
		}
		/* Something that moves, as a screen does: a bar sweeping
		 * across below the strip, so that frames are not empty. */
		if (++tick % 8 == 0) {
			int x = (tick / 8) % w;

			XSetForeground(dpy, gc, (tick * 2654435761u) & 0xffffff);
			XFillRectangle(dpy, win, gc, x, 3 * block, 8,
			    h - 3 * block);
		}
		if (img != NULL && t >= next_noise) {
			uint32_t *px = (uint32_t *)img->data;

			for (size_t i = 0; i < (size_t)img->width * img->height;
			    i++) {
				rnd ^= rnd << 13;
				rnd ^= rnd >> 17;
				rnd ^= rnd << 5;
				px[i] = rnd;
			}
			XPutImage(dpy, win, gc, img, 0, 0, w / 2, h / 2,
			    img->width, img->height);
			next_noise = t + 1000000 / 30 / UNIT_US;
		}
		XSync(dpy, False);
		usleep(1000);
	}
}

/* The mean of the central half of block (bx, by), of side b, of a grey
 * plane. */
static int
block_mean(const uint8_t *y, int stride, int b, int bx, int by)
{
	int x0 = bx * b + b / 4, y0 = by * b + b / 4;
	int n = b / 2, sum = 0;

	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++)
			sum += y[(y0 + j) * stride + x0 + i];
	return sum / (n * n);
}

/* The time in a picture, or -1 when its strip does not read. */
static int64_t
strip_read(const uint8_t *y, int stride, int w, int h)
{
	uint64_t t = 0;
	/* A smaller layer's picture: the strip scaled with it. */
	int side = screen_w > w ? (int)(block * w / screen_w) : (int)block;

	if (side < 4 || w < BITS * side || h < 2 * side)
		return -1;
	for (int i = 0; i < BITS; i++) {
		int a = block_mean(y, stride, side, i, 0);
		int b = block_mean(y, stride, side, i, 1);

		if (a > 160 && b < 96)
			t = t << 1 | 1;
		else if (a < 96 && b > 160)
			t = t << 1;
		else
			return -1;
	}
	return (int64_t)t;
}

static void count_ms(double ms);

/* Counts one picture whose strip read t (-1: did not read), seen now. */
static void
frame_time(int64_t t)
{
	uint64_t now = now_units() & ((1ULL << BITS) - 1);
	double ms;

	if (st.seen++ == 0)
		st.first_ms = now_ms();
	if (t < 0) {
		st.bad++;
		if (!st.good_yet)
			st.undecodable++;
		return;
	}
	st.good_yet = 1;
	ms = (double)((now - (uint64_t)t) & ((1ULL << BITS) - 1)) *
	    UNIT_US / 1000;
	if (st.seen > skip_frames)
		count_ms(ms);
}

/* One latency counted. */
static void
count_ms(double ms)
{
	if (st.n == st.cap) {
		st.cap = st.cap ? st.cap * 2 : 1024;
		if ((st.lat = realloc(st.lat, st.cap * sizeof *st.lat)) == NULL)
			err(EX_OSERR, "realloc");
	}
	st.lat[st.n++] = ms;
	if (st.log != NULL)
		fprintf(st.log, "%.2f %.1f %d\n", ms, now_ms(), st.width);
}

static void
frame_seen(const uint8_t *y, int stride, int w, int h)
{
	st.width = w;
	frame_time(strip_read(y, stride, w, h));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (st.n == 0)
		return 0;
	i = (size_t)(p * (st.n - 1) + 0.5);
	return st.lat[i];
}

static void
report(void)
{
	qsort(st.lat, st.n, sizeof *st.lat, cmp_double);
	printf("frames %zu bad %lld undecodable %lld first_ms %.1f p50 %.1f p95 %.1f max %.1f\n",
	    st.n, st.bad, st.undecodable, st.first_ms, pct(0.5), pct(0.95),
	    st.n ? st.lat[st.n - 1] : 0.0);
	fflush(stdout);
	if (st.log != NULL)
		fflush(st.log);
}

static int
done(void)
{
	return max_frames > 0 && (long long)st.n >= max_frames;
}

static int
read_raw(void)
{
	size_t size = (size_t)raw_w * raw_h;
	uint8_t *buf = malloc(size);

	if (buf == NULL)
		err(EX_OSERR, "malloc");
	while (!done()) {
		size_t got = 0;
		ssize_t r;

		while (got < size) {
			r = read(STDIN_FILENO, buf + got, size - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto eof;
			got += r;
		}
		frame_seen(buf, raw_w, raw_w, raw_h);
	}
eof:
	free(buf);
	report();
	return 0;
}

static int
read_ts(void)
{
	GstElement *pipe, *sink, *dec;
	GstBus *bus;
	GError *error = NULL;
	int status = 0;

	/* PP_LATENCY_DEMUX replaces "tsdemux ! h264parse", to find where
	 * time goes (say "gdpdepay" for a stream that keeps its buffers). */
	const char *demux = g_getenv("PP_LATENCY_DEMUX");
	g_autofree char *desc = g_strdup_printf("fdsrc fd=0 ! %s ! "
	    "avdec_h264 name=dec ! "
	    "video/x-raw,format={I420,Y42B,Y444,NV12} ! "
	    "appsink name=sink sync=false max-buffers=8",
	    demux != NULL ? demux : "tsdemux ! h264parse");

	pipe = gst_parse_launch(desc, &error);
	if (pipe == NULL)
		errx(EX_UNAVAILABLE, "cannot build the decoder: %s", error->message);
	dec = gst_bin_get_by_name(GST_BIN(pipe), "dec");
	g_object_set(dec, "max-threads", (int)threads, NULL);
	gst_object_unref(dec);
	sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	bus = gst_element_get_bus(pipe);
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE)
		errx(EX_UNAVAILABLE, "the decoder did not start");
	while (!done()) {
		GstSample *s;
		GstMessage *m;

		/* Decoder errors and warnings: pictures that failed. */
		while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR |
		    GST_MESSAGE_WARNING)) != NULL) {
			if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
				gst_message_parse_error(m, &error, NULL);
				warnx("decoder: %s", error->message);
				g_clear_error(&error);
				if (!st.good_yet)
					st.undecodable++;
				status = 65;
				gst_message_unref(m);
				goto out;
			}
			if (!st.good_yet)
				st.undecodable++;
			gst_message_unref(m);
		}
		s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
		    GST_SECOND / 10);
		if (s == NULL) {
			if (gst_app_sink_is_eos(GST_APP_SINK(sink)))
				break;
			continue;
		}
		GstVideoInfo vi;
		GstVideoFrame f;

		if (gst_video_info_from_caps(&vi, gst_sample_get_caps(s)) &&
		    gst_video_frame_map(&f, &vi, gst_sample_get_buffer(s),
		    GST_MAP_READ)) {
			frame_seen(GST_VIDEO_FRAME_PLANE_DATA(&f, 0),
			    GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
			    GST_VIDEO_FRAME_WIDTH(&f),
			    GST_VIDEO_FRAME_HEIGHT(&f));
			gst_video_frame_unmap(&f);
		}
		gst_sample_unref(s);
	}
out:
	report();
	/* Whatever still flows is not ours to wait for. */
	_exit(status);
}

/* The screen of dpy as a grey plane (the strip is black and white, so
 * the green channel will do), w by h; NULL when it cannot be read. */
static uint8_t *
screen_grey(Display *dpy, int *w, int *h)
{
	int scr = DefaultScreen(dpy);
	XImage *img;
	uint8_t *g;

	*w = DisplayWidth(dpy, scr);
	*h = DisplayHeight(dpy, scr);
	img = XGetImage(dpy, RootWindow(dpy, scr), 0, 0, *w, *h, AllPlanes,
	    ZPixmap);
	if (img == NULL)
		return NULL;
	if ((g = malloc((size_t)*w * *h)) == NULL)
		err(EX_OSERR, "malloc");
	for (int y = 0; y < *h; y++)
		for (int x = 0; x < *w; x++) {
			unsigned long p = img->bits_per_pixel == 32 ?
			    ((uint32_t *)(img->data + y * img->bytes_per_line))[x] :
			    XGetPixel(img, x, y);

			g[(size_t)y * *w + x] = (p & img->green_mask) *
			    255 / img->green_mask;
		}
	XDestroyImage(img);
	return g;
}

/* Where the strip is on a grey screen: its top left corner, centred in
 * the few pixels of slack that still read (the blocks' central half is
 * what counts). Players put the picture where they like: pp-view and
 * mpv at the window's corner, VLC under its menu bar. Unscaled only. */
static int
strip_find(const uint8_t *g, int w, int h, int *sx, int *sy)
{
	int sw = BITS * block, sh = 2 * block, c = block / 2;

	for (int y = 0; y + sh <= h; y++)
		for (int x = 0; x + sw <= w; x++) {
			int a = g[(size_t)(y + c) * w + x + c];
			int b = g[(size_t)(y + block + c) * w + x + c];
			int dx = 0, dy = 0;

			/* One pixel of the first block and its complement
			 * first: most places fail there. */
			if (!((a > 160 && b < 96) || (a < 96 && b > 160)) ||
			    strip_read(g + (size_t)y * w + x, w, sw, sh) < 0)
				continue;
			while (x + dx + 1 + sw <= w && dx < block &&
			    strip_read(g + (size_t)y * w + x + dx + 1, w, sw, sh) >= 0)
				dx++;
			while (y + dy + 1 + sh <= h && dy < block &&
			    strip_read(g + (size_t)(y + dy + 1) * w + x, w, sw, sh) >= 0)
				dy++;
			*sx = x + dx / 2;
			*sy = y + dy / 2;
			return 0;
		}
	return -1;
}

static int
run_grab(const char *display)
{
	Display *dpy;
	GstElement *pipe, *sink;
	GError *error = NULL;
	int sx = -1, sy = -1, w, h;
	int64_t last = -2;
	uint64_t quiet_since;

	if ((dpy = XOpenDisplay(display)) == NULL)
		errx(EX_UNAVAILABLE, "cannot open the X display %s", display);
	/* The player's first picture: up to 30 s after we start. */
	for (int i = 0; i < 300 && sx < 0; i++) {
		uint8_t *g = screen_grey(dpy, &w, &h);

		if (g != NULL && strip_find(g, w, h, &sx, &sy) == 0) {
			free(g);
			break;
		}
		free(g);
		usleep(100000);
	}
	XCloseDisplay(dpy);
	if (sx < 0)
		errx(EX_UNAVAILABLE, "no clock strip on %s in 30 s: nothing shows the stream there, or it is scaled", display);

	g_autofree char *desc = g_strdup_printf("ximagesrc display-name=%s "
	    "startx=%d starty=%d endx=%d endy=%d use-damage=false "
	    "show-pointer=false ! video/x-raw,framerate=%lld/1 ! "
	    "videoconvert ! video/x-raw,format=GRAY8 ! "
	    "appsink name=sink sync=false max-buffers=8",
	    display, sx, sy, sx + (int)(BITS * block) - 1,
	    sy + (int)(2 * block) - 1, grab_fps);
	pipe = gst_parse_launch(desc, &error);
	if (pipe == NULL)
		errx(EX_UNAVAILABLE, "cannot build the grab: %s", error->message);
	sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE)
		errx(EX_UNAVAILABLE, "the grab did not start");
	quiet_since = now_units();
	while (!done() && now_units() - quiet_since < 10000000 / UNIT_US) {
		GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
		    GST_SECOND / 10);
		GstVideoInfo vi;
		GstVideoFrame f;
		int64_t t;

		if (s == NULL)
			continue;
		if (gst_video_info_from_caps(&vi, gst_sample_get_caps(s)) &&
		    gst_video_frame_map(&f, &vi, gst_sample_get_buffer(s),
		    GST_MAP_READ)) {
			t = strip_read(GST_VIDEO_FRAME_PLANE_DATA(&f, 0),
			    GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
			    GST_VIDEO_FRAME_WIDTH(&f),
			    GST_VIDEO_FRAME_HEIGHT(&f));
			gst_video_frame_unmap(&f);
			/* The same picture again is not a new one. */
			if (t != last || t < 0) {
				frame_time(t);
				quiet_since = now_units();
			}
			last = t;
		}
		gst_sample_unref(s);
	}
	report();
	_exit(0);
}

static int
run_beep(void)
{
	g_autofree char *desc = g_strdup_printf("audiotestsrc is-live=true "
	    "wave=ticks freq=1000 sine-periods-per-tick=10 volume=0.8 "
	    "tick-interval=%" G_GUINT64_FORMAT " ! audioconvert ! pulsesink %s%s "
	    "buffer-time=40000 latency-time=10000 "
	    "client-name=pp-latency-beep", (guint64)TICK_S * GST_SECOND,
	    display_name ? "device=" : "", display_name ? display_name : "");
	GError *error = NULL;
	GstElement *pipe = gst_parse_launch(desc, &error);
	GstMessage *m;

	if (pipe == NULL)
		errx(EX_UNAVAILABLE, "cannot build %s: %s", desc, error->message);
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE)
		errx(EX_UNAVAILABLE, "the beep did not start");
	m = gst_bus_timed_pop_filtered(gst_element_get_bus(pipe),
	    GST_CLOCK_TIME_NONE, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
	if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
		gst_message_parse_error(m, &error, NULL);
		errx(EX_UNAVAILABLE, "beep: %s", error->message);
	}
	return 0;
}

/* listen: the state of one recorded source, and of the pair. */
typedef struct {
	uint64_t quiet;		/* samples below the threshold in a row */
	int	 view;		/* the player's side, not the reference */
} Ear;

static GMutex ears_lock;
static double ref_tick_ms = -1;		/* the reference's last tick */
static double view_tick_ms = -1;	/* the viewer's, not yet paired */
static uint64_t heard_at;		/* now_units() of the last tick */

/* A tick heard at T ms: a viewer's is paired with the reference's before
 * it, or just after it (both are timed to 10 ms or so, and a viewer's
 * sound may be as early as the host's). */
static void
tick_heard(int view, double t)
{
	double *other = view ? &ref_tick_ms : &view_tick_ms;
	double d = view ? t - *other : *other - t;

	if (*other >= 0 && d > -500 && d < TICK_S * 1e3 - 500) {
		heard_at = now_units();
		if (++st.seen > skip_frames)
			count_ms(d);
		view_tick_ms = -1;
	} else if (view) {
		view_tick_ms = t;
	}
	if (!view)
		ref_tick_ms = t;
}

/* In the streaming thread, as soon as a buffer is recorded: its samples
 * were heard up to now, the last one just now. */
static GstFlowReturn
on_recorded(GstAppSink *sink, gpointer data)
{
	Ear *ear = data;
	GstSample *s = gst_app_sink_pull_sample(sink);
	double now = now_ms();
	GstMapInfo map;

	if (s == NULL)
		return GST_FLOW_EOS;
	if (gst_buffer_map(gst_sample_get_buffer(s), &map, GST_MAP_READ)) {
		const int16_t *pcm = (const int16_t *)map.data;
		size_t n = map.size / 2;

		g_mutex_lock(&ears_lock);
		for (size_t i = 0; i < n; i++) {
			double t;

			if (abs(pcm[i]) < 4096) {
				ear->quiet++;
				continue;
			}
			t = now - (n - 1 - i) * 1e3 / LISTEN_RATE;
			if (ear->quiet >= LISTEN_RATE / 5)
				tick_heard(ear->view, t);
			ear->quiet = 0;
		}
		g_mutex_unlock(&ears_lock);
		gst_buffer_unmap(gst_sample_get_buffer(s), &map);
	}
	gst_sample_unref(s);
	return GST_FLOW_OK;
}

static int
run_listen(const char *ref, const char *dev)
{
	static const char branch[] = "pulsesrc device=%s buffer-time=40000 "
	    "latency-time=10000 client-name=pp-latency-listen ! "
	    "audioconvert ! audioresample ! "
	    "audio/x-raw,format=S16LE,channels=1,rate=%d ! "
	    "appsink name=%s sync=false ";
	g_autofree char *b_ref = g_strdup_printf(branch, ref, LISTEN_RATE, "ref");
	g_autofree char *b_view = g_strdup_printf(branch, dev, LISTEN_RATE, "view");
	g_autofree char *desc = g_strconcat(b_ref, b_view, NULL);
	GError *error = NULL;
	GstElement *pipe = gst_parse_launch(desc, &error);
	static Ear ears[2] = { { 0, 0 }, { 0, 1 } };
	GstAppSinkCallbacks cb = { .new_sample = on_recorded };

	if (pipe == NULL)
		errx(EX_UNAVAILABLE, "cannot build %s: %s", desc, error->message);
	for (int i = 0; i < 2; i++) {
		GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe),
		    i ? "view" : "ref");

		gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, &ears[i],
		    NULL);
		gst_object_unref(sink);
	}
	heard_at = now_units();
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE)
		errx(EX_UNAVAILABLE, "cannot record %s and %s", ref, dev);
	for (;;) {
		g_usleep(G_USEC_PER_SEC / 10);
		g_mutex_lock(&ears_lock);
		if (done() || now_units() - heard_at > 10000000 / UNIT_US)
			break;
		g_mutex_unlock(&ears_lock);
	}
	report();
	_exit(0);
}

int
main(int argc, char *argv[])
{
	const char *mode, *logf;
	int ch;

	opt_early(argc, argv, usage_text);
	if (argc < 2)
		usage();
	mode = argv[1];
	argc--;
	argv++;
	opterr = 0;
	while ((ch = getopt(argc, argv, "NW:b:d:f:n:r:s:t:h")) != -1) {
		switch (ch) {
		case 'N':
			noise = 1;
			break;
		case 'W':
			screen_w = opt_number("-W", optarg, 16, 16384);
			break;
		case 'b':
			block = opt_number("-b", optarg, 4, 64);
			break;
		case 'd':
			display_name = optarg;
			break;
		case 'f':
			grab_fps = opt_number("-f", optarg, 1, 1000);
			break;
		case 'n':
			max_frames = opt_number("-n", optarg, 1, 1000000);
			break;
		case 'r':
			if (sscanf(optarg, "%lldx%lld", &raw_w, &raw_h) != 2 ||
			    raw_w < 1 || raw_h < 1 || raw_w > 8192 ||
			    raw_h > 8192)
				errx(EX_USAGE, "-r %s: not WxH", optarg);
			break;
		case 's':
			skip_frames = opt_number("-s", optarg, 0, 1000000);
			break;
		case 't':
			threads = opt_number("-t", optarg, 0, 64);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		default:
			opt_bad(argv, "NW:b:d:f:n:r:s:t:h", NULL);
		}
	}
	if ((logf = getenv("PP_LATENCY_LOG")) != NULL && *logf != '\0' &&
	    (st.log = fopen(logf, "a")) == NULL)
		err(EX_CANTCREAT, "%s", logf);
	if (st.log != NULL)
		setvbuf(st.log, NULL, _IOLBF, 0);	/* read while we run */
	if (strcmp(mode, "grab") == 0 && optind == argc - 1) {
		gst_init(NULL, NULL);
		return run_grab(argv[optind]);
	}
	if (strcmp(mode, "listen") == 0 && optind == argc - 2) {
		gst_init(NULL, NULL);
		return run_listen(argv[optind], argv[optind + 1]);
	}
	if (optind != argc)
		usage();
	if (strcmp(mode, "beep") == 0) {
		gst_init(NULL, NULL);
		return run_beep();
	}
	if (strcmp(mode, "clock") == 0)
		return run_clock();
	if (strcmp(mode, "read") != 0)
		usage();
	if (raw_w > 0)
		return read_raw();
	gst_init(NULL, NULL);
	return read_ts();
}
