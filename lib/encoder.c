#include "encoder.h"

#include <string.h>

#include "gstprobe.h"
#include "log.h"

typedef struct {
	const char *name;
	const char *format;
	const char *missing;	/* why the element may not exist */
} Encoder;

static const Encoder encoders[] = {
	{ "vah264enc", "NV12", "no VA-API device with H.264 encoding, or gstreamer1.0-plugins-bad not installed" },
	{ "vaapih264enc", "NV12", "gstreamer1.0-vaapi not installed" },
	{ "nvh264enc", "NV12", "no NVIDIA GPU with NVENC, or gstreamer1.0-plugins-bad not installed" },
	{ "v4l2h264enc", "NV12", "no V4L2 H.264 encoder device" },
	{ "x264enc", "I420", "gstreamer1.0-plugins-ugly not installed" },
	{ "openh264enc", "I420", "gstreamer1.0-plugins-bad not installed" },
};

static const char *const names[] = {
	"vah264enc", "vaapih264enc", "nvh264enc", "v4l2h264enc", "x264enc",
	"openh264enc", NULL,
};

static const Encoder *
encoder_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(encoders); i++)
		if (strcmp(encoders[i].name, name) == 0)
			return &encoders[i];
	return NULL;
}

const char *const *
encoder_names(void)
{
	return names;
}

gboolean
encoder_known(const char *name)
{
	return encoder_find(name) != NULL;
}

const char *
encoder_format(const char *name)
{
	const Encoder *e = encoder_find(name);

	return e != NULL ? e->format : "I420";
}

/* Sets a property from its string form when the element has it: plugin
 * versions differ, and a missing knob must not abort the stream. */
static void
set(GstElement *el, const char *prop, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *value = NULL;

	va_start(ap, fmt);
	value = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (g_object_class_find_property(G_OBJECT_GET_CLASS(el), prop) == NULL) {
		log_debug("%s has no property %s", GST_OBJECT_NAME(el), prop);
		return;
	}
	gst_util_set_object_arg(G_OBJECT(el), prop, value);
}

static void
encoder_configure(GstElement *el, const char *name, const EncoderSettings *s)
{
	if (strcmp(name, "x264enc") == 0) {
		/* zerolatency: no lookahead, no B-frames, sliced threads.
		 * superfast keeps 1080p30 within one core. */
		set(el, "tune", "zerolatency");
		set(el, "speed-preset", "superfast");
		set(el, "pass", "cbr");
		set(el, "bitrate", "%u", s->bitrate);
		set(el, "vbv-buf-capacity", "%u", 500);
		set(el, "key-int-max", "%u", s->keyint);
		set(el, "bframes", "0");
		set(el, "b-adapt", "false");
		set(el, "byte-stream", "true");
		if (s->fixed_gop)
			set(el, "option-string", "scenecut=0");
		if (s->threads != 0)
			set(el, "threads", "%u", s->threads);
	} else if (strcmp(name, "openh264enc") == 0) {
		set(el, "usage-type", s->screen ? "screen" : "camera");
		set(el, "rate-control", "bitrate");
		set(el, "bitrate", "%u", s->bitrate * 1000);
		set(el, "max-bitrate", "%u", s->bitrate * 1000 * 3 / 2);
		set(el, "gop-size", "%u", s->keyint);
		set(el, "complexity", "low");
		set(el, "enable-frame-skip", "false");
	} else if (strcmp(name, "vah264enc") == 0) {
		set(el, "rate-control", "cbr");
		set(el, "bitrate", "%u", s->bitrate);
		set(el, "key-int-max", "%u", s->keyint);
		set(el, "b-frames", "0");
		set(el, "ref-frames", "1");
		set(el, "target-usage", "7");
	} else if (strcmp(name, "vaapih264enc") == 0) {
		set(el, "rate-control", "cbr");
		set(el, "bitrate", "%u", s->bitrate);
		set(el, "keyframe-period", "%u", s->keyint);
		set(el, "max-bframes", "0");
		set(el, "tune", "high-compression");
	} else if (strcmp(name, "nvh264enc") == 0) {
		set(el, "preset", "low-latency-hq");
		set(el, "rc-mode", "cbr");
		set(el, "bitrate", "%u", s->bitrate);
		set(el, "gop-size", "%u", s->keyint);
		set(el, "bframes", "0");
		set(el, "zerolatency", "true");
	} else if (strcmp(name, "v4l2h264enc") == 0) {
		set(el, "extra-controls",
		    "controls,video_bitrate_mode=1,video_bitrate=%u,"
		    "video_gop_size=%u,h264_i_frame_period=%u,video_b_frames=0",
		    s->bitrate * 1000, s->keyint, s->keyint);
	}
}

GstElement *
encoder_make(const char *name, const EncoderSettings *s, char **why)
{
	const Encoder *e = encoder_find(name);
	GstElement *el;

	if (e == NULL) {
		*why = g_strdup("unknown encoder");
		return NULL;
	}
	if ((el = gst_element_factory_make(name, NULL)) == NULL) {
		*why = g_strdup_printf("no such element (%s)", e->missing);
		return NULL;
	}
	encoder_configure(el, name, s);
	return el;
}

gboolean
encoder_probe(const char *name, const EncoderSettings *s, char **why)
{
	GstElement *pipe = NULL, *src, *caps, *enc, *parse, *sink;
	g_autoptr(GstCaps) raw = NULL;
	gboolean ok = FALSE;

	if ((enc = encoder_make(name, s, why)) == NULL)
		return FALSE;
	pipe = gst_pipeline_new("probe");
	src = gst_element_factory_make("videotestsrc", NULL);
	caps = gst_element_factory_make("capsfilter", NULL);
	parse = gst_element_factory_make("h264parse", NULL);
	sink = gst_element_factory_make("fakesink", NULL);
	if (src == NULL || caps == NULL || parse == NULL || sink == NULL) {
		*why = g_strdup("GStreamer base elements missing (gstreamer1.0-plugins-base, -bad)");
		gst_object_unref(enc);
		goto done;
	}
	g_object_set(src, "num-buffers", 3, NULL);
	raw = gst_caps_new_simple("video/x-raw",
	    "format", G_TYPE_STRING, encoder_format(name),
	    "width", G_TYPE_INT, (int)s->width,
	    "height", G_TYPE_INT, (int)s->height,
	    "framerate", GST_TYPE_FRACTION, (int)s->fps, 1,
	    "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
	g_object_set(caps, "caps", raw, NULL);
	gst_bin_add_many(GST_BIN(pipe), src, caps, enc, parse, sink, NULL);
	if (!gst_element_link_many(src, caps, enc, parse, sink, NULL)) {
		*why = g_strdup_printf("does not accept %s %ux%u",
		    encoder_format(name), s->width, s->height);
		goto done;
	}
	ok = gstprobe_run(pipe, sink, "no output within 5 s", "produced no frames",
	    TRUE, why);
done:
	gst_element_set_state(pipe, GST_STATE_NULL);
	gst_object_unref(pipe);
	return ok;
}

const char *
encoder_pick(const EncoderSettings *s)
{
	for (const char *const *n = names; *n != NULL; n++) {
		g_autofree char *why = NULL;

		if (encoder_probe(*n, s, &why))
			return *n;
		log_debug("encoder %s: %s", *n, why);
	}
	return NULL;
}
