/* Diagnostics on stderr, prefixed with the program's name as err(3) does.
 * Fatal errors use err(3)/errx(3) with a sysexits(3) status; these are for
 * the lines a tool prints while it keeps going. */
#pragma once

#include <glib.h>

/* Reads PP_VERBOSE (any non-empty value but "0" turns on log_debug). */
void log_init(void);
void log_set_verbose(gboolean verbose);
gboolean log_verbose(void);

void log_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
