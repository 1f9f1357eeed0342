/* The event channel of --status-fd: facts for the program that started a
 * tool, as lines it can parse, apart from the human messages on stderr
 * (which are free to change). The precedents are s6's notification-fd and
 * systemd's sd_notify.
 *
 * One line per event, written with one write(2):
 *
 *	EVENT KEY=VALUE KEY=VALUE ...\n
 *
 * EVENT and KEY are fixed words of [a-z0-9_-], listed in each tool's man
 * page. A VALUE is any bytes, with every byte outside '!'..'~' and every
 * '%' written as %XX (two hex digits, upper case), so that a value never
 * holds a space, a newline or a terminal escape. */
#pragma once

#include <glib.h>

/* The fd named by --status-fd N: exits 64 with one line when N is not an
 * open fd. SIGPIPE is ignored from then on; a reader that has gone is
 * not an error, and no more events are written. */
void status_open(const char *arg);

/* TRUE when --status-fd was given. */
gboolean status_enabled(void);

/* Writes EVENT and its KEY, VALUE pairs (strings; a NULL key ends them;
 * a NULL value is written as empty). Does nothing without --status-fd. */
void status_event(const char *event, ...) G_GNUC_NULL_TERMINATED;

/* The line status_event writes, without its newline (for tests). */
char *status_format(const char *event, va_list ap);
