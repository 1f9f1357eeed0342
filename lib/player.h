/* Can a media player play here? Checked before a viewer connects, so that
 * one whose player cannot start never takes one of the host's viewer
 * slots: the program is installed, it runs as this user (VLC refuses
 * root), it has what plays an MPEG-TS H.264 stream, and the session has a
 * display it can reach. Each failure is one sentence that names what is
 * missing and the Debian package that brings it. */
#pragma once

#include <glib.h>

/* TRUE when a Wayland or X11 display of this session accepts connections;
 * a display on another host (DISPLAY=host:0) is taken on trust. */
gboolean player_display_ok(GError **error);

/* TRUE when NAME ("mpv" or "vlc") can play here. ARGS are the options
 * the user adds to the player's command line: one that picks the video
 * output (mpv's --vo, VLC's --vout) makes the display the user's
 * business (mpv --vo=drm plays on a console, --vo=null nowhere). */
gboolean player_check(const char *name, char **args, GError **error);

/* The first of mpv and vlc that can play here, or NULL with the reasons
 * of both in error. */
const char *player_pick(char **args, GError **error);

/* What a VLC install lacks to play this stream at all (its MPEG-TS
 * demuxer, its H.264 decoder), as one sentence, or NULL. */
char *player_vlc_missing_codecs(void);
