/* Trying a GStreamer element for real, as pp-encode tries its encoders and
 * pp-view its decoders: an element that exists may still fail on this
 * machine (no GPU behind it, a driver that refuses the format). */
#pragma once

#include <gst/gst.h>

/* Runs pipe, a pipeline that ends by itself, to its end (5 s at most: an
 * element that hangs counts as broken) while it counts the buffers that
 * reach sink. TRUE when some did; otherwise why says what went wrong: the
 * error on the bus, late when nothing ended in time, or empty when the
 * pipeline ended with no buffer. mute_stderr: what libraries print on
 * stderr while they are tried is thrown away (not with PP_VERBOSE). The
 * pipeline is left in the NULL state. */
gboolean gstprobe_run(GstElement *pipe, GstElement *sink, const char *late,
    const char *empty, gboolean mute_stderr, char **why);
