#include <err.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "mediagst.h"

void
mediagst_require(const MediaElement *els, size_t n, const char *scheme)
{
	for (size_t i = 0; i < n; i++) {
		GstElementFactory *fac;

		if (els[i].scheme != NULL && strcmp(els[i].scheme, scheme) != 0)
			continue;
		if ((fac = gst_element_factory_find(els[i].factory)) == NULL)
			errx(EX_UNAVAILABLE, "GStreamer element %s is missing; install %s",
			    els[i].factory, els[i].pkg);
		gst_object_unref(fac);
	}
}

GstElement *
mediagst_make(const char *factory)
{
	GstElement *el = gst_element_factory_make(factory, NULL);

	if (el == NULL)
		errx(EX_UNAVAILABLE, "GStreamer element %s cannot be made", factory);
	return el;
}

char *
mediagst_error_text(GstMessage *msg)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *debug = NULL;
	const char *detail;

	gst_message_parse_error(msg, &e, &debug);
	log_debug("%s", debug != NULL ? debug : "");
	detail = debug != NULL ? strrchr(debug, '\n') : NULL;
	detail = detail != NULL ? detail + 1 : NULL;
	if (detail == NULL || *detail == '\0')
		return g_strdup(e->message);
	return g_strdup_printf("%s (%s)", e->message, detail);
}
