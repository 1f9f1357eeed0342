/* H.264 encoders pixelpass can drive, in the order it prefers them
 * (hardware first), each configured for live streaming: no B-frames,
 * constant bit rate, a fixed keyframe interval. Whether one works is
 * decided by encoding a few frames with it, not by whether its plugin
 * is installed: a VA-API or NVENC element may exist on a machine whose
 * GPU cannot run it. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

typedef struct {
	guint bitrate;		/* kbit/s */
	guint fps;
	guint keyint;		/* frames between keyframes */
	guint width, height;	/* what the encoder is fed */
	gboolean screen;	/* screen content (not camera-like) */
	gboolean fixed_gop;	/* keyframes only every keyint frames or
				 * when asked, never at a scene cut */
	guint threads;		/* a software encoder's threads, 0: its own
				 * choice (x264: sliced, one per core) */
} EncoderSettings;

/* The known encoders, in probe order, NULL-terminated. */
const char *const *encoder_names(void);
gboolean encoder_known(const char *name);

/* The raw video format NAME is fed (I420 for software, NV12 for GPUs). */
const char *encoder_format(const char *name);

/* A new NAME element with the low-latency settings applied, or NULL with
 * *why set (free it) when the element does not exist. */
GstElement *encoder_make(const char *name, const EncoderSettings *s,
    char **why);

/* Encodes a few frames of S's size through NAME. TRUE when it produced
 * H.264; FALSE with *why saying what went wrong (free it). */
gboolean encoder_probe(const char *name, const EncoderSettings *s, char **why);

/* The first encoder of the list that passes encoder_probe, or NULL. */
const char *encoder_pick(const EncoderSettings *s);
