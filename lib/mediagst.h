/* The GStreamer side shared by pp-publish and pp-fetch, the two tools
 * that talk to media servers: the elements a URL's scheme needs, and
 * what an error on the bus says. */
#pragma once

#include <gst/gst.h>

/* An element a scheme needs, and the Debian package that has it. */
typedef struct {
	const char *scheme;	/* NULL: every scheme needs it */
	const char *factory, *pkg;
} MediaElement;

/* Exits 69 naming the package when an element of els (n of them) that
 * scheme needs is missing. */
void mediagst_require(const MediaElement *els, size_t n, const char *scheme);

/* The element, made after mediagst_require found its factory; exits 69
 * when it cannot be made all the same (a broken plugin). */
GstElement *mediagst_make(const char *factory);

/* An error message's text with what the server or the socket said: the
 * last line of its debug string, where GStreamer's sources and sinks put
 * it (the message itself is generic, "Could not open resource for
 * writing"). The whole debug string goes to log_debug. */
char *mediagst_error_text(GstMessage *msg);
