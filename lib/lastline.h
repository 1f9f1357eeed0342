/* A child's stderr passed on to ours as it comes, its last line kept:
 * the one line a failing tool writes to say why (DESIGN.md), so that a
 * parent can hand the reason on (pp-fanout to its consumers, pp-tunnel
 * to the viewer). Runs on the default main context. */
#pragma once

#include <glib.h>

typedef struct LastLine LastLine;

#define LASTLINE_MAX	200	/* longer lines are kept cut */

/* Takes fd, the read end of the child's stderr pipe (closed by free). */
LastLine *lastline_new(int fd);
void lastline_free(LastLine *l);

/* The last non-empty line so far, after reading what the pipe holds now
 * (the child has exited: what it wrote is there), or NULL. */
const char *lastline_get(LastLine *l);

/* Why a child that ended with wait_status failed, in one line: killed by
 * a signal, or its last line (with_status: and its exit status), or
 * prog's exit status. NULL when it exited 0. */
char *lastline_reason(LastLine *l, const char *prog, int wait_status,
    gboolean with_status);
