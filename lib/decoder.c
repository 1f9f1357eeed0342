#include "decoder.h"

#include <string.h>

#include <gst/app/gstappsrc.h>

#include "gstprobe.h"
#include "log.h"

static const char *const names[] = {
	"vah264dec", "vaapih264dec", "nvh264dec", "v4l2h264dec",
	"avdec_h264", "openh264dec", NULL,
};

/* One 64x64 IDR picture (access unit delimiter, SPS, PPS, slice) from
 * x264, constrained baseline: every H.264 decoder takes it. */
static const guint8 probe_h264[] = {
	0x00, 0x00, 0x00, 0x01, 0x09, 0x10, 0x00, 0x00, 0x00, 0x01, 0x67, 0x42,
	0xc0, 0x15, 0xda, 0x10, 0x9b, 0x01, 0x6a, 0x0c, 0x0c, 0x0d, 0x4a, 0x00,
	0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x79, 0x1e, 0x2c, 0x5d,
	0x40, 0x00, 0x00, 0x00, 0x01, 0x68, 0xce, 0x3c, 0x80, 0x00, 0x00, 0x00,
	0x01, 0x65, 0x88, 0x84, 0x06, 0xa8, 0x46, 0x28, 0x00, 0x0d, 0xd5, 0xc7,
	0x00, 0x01, 0x31, 0xe8, 0xe0, 0x00, 0x23, 0x73, 0x27, 0x27, 0x27, 0x5d,
	0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x80
};

const char *const *
decoder_names(void)
{
	return names;
}

GstElement *
decoder_make(const char *name, char **why)
{
	GstElement *el = gst_element_factory_make(name, NULL);

	if (el == NULL) {
		*why = g_strdup("no such element");
		return NULL;
	}
	/* libavcodec's frame threads hold each picture for a frame per
	 * thread: 77 ms glass to decode at 30 fps against 44 ms with one
	 * thread (LAB.md). Slice threads cost nothing when the encoder
	 * slices (x264 zerolatency does), and one thread otherwise. */
	if (strcmp(name, "avdec_h264") == 0)
		gst_util_set_object_arg(G_OBJECT(el), "thread-type", "slice");
	return el;
}

gboolean
decoder_probe(const char *name, char **why)
{
	GstElement *pipe, *src, *parse, *dec, *sink;
	g_autoptr(GstCaps) caps = NULL;
	gboolean ok = FALSE;

	if ((dec = decoder_make(name, why)) == NULL)
		return FALSE;
	pipe = gst_pipeline_new("probe");
	src = gst_element_factory_make("appsrc", NULL);
	parse = gst_element_factory_make("h264parse", NULL);
	sink = gst_element_factory_make("fakesink", NULL);
	if (src == NULL || parse == NULL || sink == NULL) {
		*why = g_strdup("GStreamer elements missing (gstreamer1.0-plugins-base, -bad)");
		g_clear_object(&src);
		g_clear_object(&parse);
		g_clear_object(&sink);
		gst_object_unref(dec);
		goto done;
	}
	caps = gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
	g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, NULL);
	gst_bin_add_many(GST_BIN(pipe), src, parse, dec, sink, NULL);
	if (!gst_element_link_many(src, parse, dec, sink, NULL)) {
		*why = g_strdup("does not take H.264");
		goto done;
	}
	gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_new_memdup(
	    probe_h264, sizeof(probe_h264)));
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	ok = gstprobe_run(pipe, sink, "no picture within 5 s", "decoded no picture",
	    FALSE, why);
done:
	gst_element_set_state(pipe, GST_STATE_NULL);
	gst_object_unref(pipe);
	return ok;
}

const char *
decoder_pick(void)
{
	for (const char *const *n = names; *n != NULL; n++) {
		g_autofree char *why = NULL;

		GstElementFactory *f = gst_element_factory_find(*n);

		if (f == NULL)
			continue;
		gst_object_unref(f);
		if (decoder_probe(*n, &why))
			return *n;
		log_debug("decoder %s: %s", *n, why);
	}
	return NULL;
}
