/* A process forked before a tool confines itself (lib/sandbox) that starts
 * the tool's commands for it, so that they run with the user's rights and
 * the tool without them: pp-tunnel listen's per-viewer CMD may write
 * where it likes, while the process that parses strangers' packets cannot
 * open a file.
 *
 * Make it before any thread exists (the fork copies only the caller's).
 * It asks nothing of the commands it starts, and can be made to start any
 * program, so a confined tool that is compromised can still have it run
 * one: it separates what parses from what runs, and is no barrier against
 * the command line the user gave. It exits when the tool closes it or
 * exits. */
#pragma once

#include <glib.h>

#include "spawn.h"

typedef struct Spawner Spawner;

/* exited is called in the caller's main context with the pid and its wait
 * status (as a GChildWatchFunc is) when a command ends. NULL with error
 * when the fork fails. */
Spawner *spawner_new(GChildWatchFunc exited, gpointer ud, GError **error);

/* Starts argv as spawn_child would, in the spawner; its fds (in, out,
 * err, src_fds) are passed over. Returns the pid, or -1 with error set. */
pid_t spawner_spawn(Spawner *sp, const char *const *argv,
    const SpawnOpts *opts, GError **error);

/* Lets it go: commands still running are not stopped. */
void spawner_free(Spawner *sp);
