/* H.264 decoders pp-view can use, hardware first. As with the encoders
 * (lib/encoder.h), whether one works is decided by decoding a picture
 * with it, not by whether its plugin is installed: a VA-API element may
 * exist on a machine whose GPU cannot run it. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

/* The known decoders, in probe order, NULL-terminated. */
const char *const *decoder_names(void);

/* A new NAME element set up for the lowest delay, or NULL with *why set
 * (free it) when the element does not exist. */
GstElement *decoder_make(const char *name, char **why);

/* Decodes one small built-in picture through NAME. TRUE when a frame
 * came out; FALSE with *why saying what went wrong (free it). */
gboolean decoder_probe(const char *name, char **why);

/* The first decoder of the list that passes decoder_probe, or NULL. */
const char *decoder_pick(void);
