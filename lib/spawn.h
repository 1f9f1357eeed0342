/* Starting the programs a tool composes: a producer, a per-viewer command,
 * a player. A thin layer over g_spawn that also puts the child where
 * pixelpass needs it: its own process group (so one signal reaches a whole
 * producer pipeline) or its own session (a player that outlives us). */
#pragma once

#include <glib.h>
#include <sys/types.h>

enum {
	SPAWN_PGROUP = 1 << 0,	/* setpgid(0, 0): signal it with kill(-pid) */
	SPAWN_DETACH = 1 << 1,	/* setsid(): not ours to stop, not reaped */
};

typedef struct {
	int in, out, err;	/* the child's fds 0, 1, 2; -1 inherits ours */
	const int *src_fds;	/* further fds to hand on: src_fds[i] becomes */
	const int *dst_fds;	/* dst_fds[i] in the child (e.g. PipeWire on 3) */
	guint n_fds;
	int flags;
	char **envp;		/* NULL: our environment */
} SpawnOpts;

/* Starts argv[0] (searched in PATH). Returns its pid, or -1 with error set.
 * The caller reaps it (g_child_watch_add) unless SPAWN_DETACH. */
pid_t spawn_child(const char *const *argv, const SpawnOpts *opts, GError **error);
