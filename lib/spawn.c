#include "spawn.h"

#include <signal.h>
#include <unistd.h>

static void
child_setup(gpointer data)
{
	int flags = GPOINTER_TO_INT(data);

	/* Ignored signals survive exec: a tool that ignores SIGPIPE must not
	 * hand that on, or its children would spin on EPIPE. */
	signal(SIGPIPE, SIG_DFL);
	if (flags & SPAWN_DETACH)
		setsid();
	else if (flags & SPAWN_PGROUP)
		setpgid(0, 0);
}

pid_t
spawn_child(const char *const *argv, const SpawnOpts *opts, GError **error)
{
	static const SpawnOpts defaults = { .in = -1, .out = -1, .err = -1 };
	GSpawnFlags gflags = G_SPAWN_SEARCH_PATH;
	GPid pid;

	if (opts == NULL)
		opts = &defaults;
	if (!(opts->flags & SPAWN_DETACH))
		gflags |= G_SPAWN_DO_NOT_REAP_CHILD;
	if (opts->in < 0)
		gflags |= G_SPAWN_CHILD_INHERITS_STDIN;
	if (!g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)opts->envp,
	    gflags, child_setup, GINT_TO_POINTER(opts->flags),
	    opts->in, opts->out, opts->err, opts->src_fds, opts->dst_fds,
	    opts->n_fds, &pid, NULL, NULL, NULL, error))
		return -1;
	return pid;
}
