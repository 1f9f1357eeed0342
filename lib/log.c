#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean verbose;

void
log_init(void)
{
	const char *v = getenv("PP_VERBOSE");

	verbose = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

void
log_set_verbose(gboolean on)
{
	verbose = on;
}

gboolean
log_verbose(void)
{
	return verbose;
}

static void
log_line(const char *fmt, va_list ap)
{
	/* One write per line, so lines of the tools of a chain that share
	 * a terminal do not interleave. */
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	g_autofree char *line = g_strdup_printf("%s: %s\n",
	    program_invocation_short_name, msg);

	fputs(line, stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}
