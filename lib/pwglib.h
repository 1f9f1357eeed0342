/* libpipewire on GLib's main loop: one pw_loop whose fd is watched by the
 * default main context, so PipeWire callbacks run between GLib ones. */
#pragma once

#include <glib.h>
#include <pipewire/pipewire.h>

/* The shared loop (pw_init and the GLib source on first call). */
struct pw_loop *pwglib_loop(void);

/* Runs the loop until *flag becomes true or timeout_ms passes; returns
 * whether it did. For the few synchronous round trips at start-up. */
gboolean pwglib_wait(const gboolean *flag, int timeout_ms);

/* A core round trip: returns once the server has handled everything sent
 * before it on core, or FALSE after timeout_ms. */
gboolean pwglib_sync(struct pw_core *core, int timeout_ms);

typedef struct PwglibNodeWatch PwglibNodeWatch;

/* Watches a node over the PipeWire remote fd (taken over): calls cb once
 * when the node goes away or the connection is lost. NULL if the remote
 * cannot be used. */
PwglibNodeWatch *pwglib_watch_node(int fd, guint32 node, void (*cb)(gpointer),
    gpointer data);
void pwglib_watch_free(PwglibNodeWatch *w);
