/* Sound routing through libpipewire: what pp-capture tells its child to
 * record, one application's streams moved into a sink of their own, and
 * the clean-up of such sinks that a killed host left behind.
 *
 * Streams are moved by setting "target.object" on the "default" metadata
 * (what the session manager follows): moving them through the PulseAudio
 * protocol was seen to report success without moving anything. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define AUDIO_SINK_PREFIX "pixelpass_capture_"

typedef struct Audio Audio;

/* Connects to the PipeWire daemon of this session and reads its graph.
 * NULL with *error set when there is none. */
Audio *audio_connect(GError **error);
void audio_free(Audio *a);

/* The PulseAudio-style names of the default sink's monitor and of the
 * default source, or NULL when there is no default. */
char *audio_default_monitor(Audio *a);
char *audio_default_source(Audio *a);

/* Applications with an audio output stream now, sorted, unique. */
char **audio_list_apps(Audio *a);

/* Creates the sink pixelpass_capture_<our pid> and a loopback from it to
 * the default sink, then keeps moving every output stream of APP (its
 * application.name or process binary) into it, also those opened later.
 * Returns the monitor name to record, or NULL with *error set. */
char *audio_route_app(Audio *a, const char *app, GError **error);

/* Moves the routed streams back where they were and removes both nodes. */
void audio_unroute(Audio *a);

/* pp-repair: sinks and loopbacks named pixelpass_capture_* whose process
 * is gone (or all of them). Calls report(name, pid) for each; unless
 * dry_run, moves their streams back to the default sink and destroys
 * them. Returns how many were found. */
int audio_repair(Audio *a, gboolean all, gboolean dry_run,
    void (*report)(const char *name, pid_t pid, gpointer), gpointer data);
