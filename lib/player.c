#include <errno.h>
#include <glob.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "player.h"

#define PLAYER_ERROR	g_quark_from_static_string("pp-player")

/* Connects to a Unix socket at path (abstract when it starts with '@'). */
static gboolean
socket_answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	socklen_t len;
	int fd, rc;

	if (n >= sizeof(sa.sun_path))
		return FALSE;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return FALSE;
	rc = connect(fd, (struct sockaddr *)&sa, len);
	close(fd);
	return rc == 0;
}

static gboolean
wayland_ok(void)
{
	const char *name = g_getenv("WAYLAND_DISPLAY");
	const char *run = g_getenv("XDG_RUNTIME_DIR");
	g_autofree char *path = NULL;

	if (name == NULL || *name == '\0')
		return FALSE;
	if (name[0] == '/')
		return socket_answers(name);
	if (run == NULL || *run == '\0')
		return FALSE;
	path = g_build_filename(run, name, NULL);
	return socket_answers(path);
}

/* DISPLAY is [host]:N[.S]; a local one (no host, or "unix") has its
 * socket in /tmp/.X11-unix, on the file system or in the abstract
 * namespace (Linux X servers bind both). */
static gboolean
x11_ok(gboolean *remote)
{
	const char *d = g_getenv("DISPLAY"), *colon;
	g_autofree char *num = NULL, *path = NULL, *abstract = NULL;

	*remote = FALSE;
	if (d == NULL || *d == '\0' || (colon = strrchr(d, ':')) == NULL)
		return FALSE;
	if (colon != d && strncmp(d, "unix:", 5) != 0) {
		*remote = TRUE;	/* ssh -X and friends: TCP, trusted */
		return TRUE;
	}
	num = g_strndup(colon + 1, strcspn(colon + 1, "."));
	if (*num == '\0' || strspn(num, "0123456789") != strlen(num))
		return FALSE;
	path = g_strdup_printf("/tmp/.X11-unix/X%s", num);
	abstract = g_strdup_printf("@%s", path);
	return socket_answers(path) || socket_answers(abstract);
}

gboolean
player_display_ok(GError **error)
{
	const char *w = g_getenv("WAYLAND_DISPLAY"), *x = g_getenv("DISPLAY");
	gboolean remote;

	if (wayland_ok() || x11_ok(&remote))
		return TRUE;
	if ((w == NULL || *w == '\0') && (x == NULL || *x == '\0'))
		g_set_error(error, PLAYER_ERROR, 0,
		    "no display to play on: neither WAYLAND_DISPLAY nor DISPLAY is set (run the viewer inside a desktop session)");
	else
		g_set_error(error, PLAYER_ERROR, 0,
		    "the display of this session does not answer (%s%s%s%s%s): is the desktop session still running?",
		    w != NULL && *w != '\0' ? "WAYLAND_DISPLAY=" : "",
		    w != NULL && *w != '\0' ? w : "",
		    w != NULL && *w != '\0' && x != NULL && *x != '\0' ? ", " : "",
		    x != NULL && *x != '\0' ? "DISPLAY=" : "",
		    x != NULL && *x != '\0' ? x : "");
	return FALSE;
}

/* VLC's plugin directories: VLC_PLUGIN_PATH when set, else where
 * distributions put them (Debian's is under the multiarch directory). */
static char **
vlc_plugin_dirs(void)
{
	const char *env = g_getenv("VLC_PLUGIN_PATH");
	GPtrArray *a;
	glob_t g;

	if (env != NULL && *env != '\0')
		return g_strsplit(env, ":", -1);
	a = g_ptr_array_new();
	if (glob("/usr/lib/*/vlc/plugins", GLOB_ONLYDIR, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			g_ptr_array_add(a, g_strdup(g.gl_pathv[i]));
		globfree(&g);
	}
	g_ptr_array_add(a, g_strdup("/usr/lib/vlc/plugins"));
	g_ptr_array_add(a, g_strdup("/usr/lib64/vlc/plugins"));
	g_ptr_array_add(a, g_strdup("/usr/local/lib/vlc/plugins"));
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

static gboolean
vlc_has(char **dirs, const char *plugin)
{
	for (size_t i = 0; dirs[i] != NULL; i++) {
		g_autofree char *f = g_build_filename(dirs[i], plugin, NULL);

		if (g_file_test(f, G_FILE_TEST_EXISTS))
			return TRUE;
	}
	return FALSE;
}

char *
player_vlc_missing_codecs(void)
{
	static const char *const want[] = { "demux/libts_plugin.so",
	    "codec/libavcodec_plugin.so" };
	g_auto(GStrv) dirs = vlc_plugin_dirs();
	GString *missing = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		if (!vlc_has(dirs, want[i]))
			g_string_append_printf(missing, "%s%s",
			    missing->len ? ", " : "", want[i]);
	if (missing->len == 0) {
		g_string_free(missing, TRUE);
		return NULL;
	}
	return g_strdup_printf("VLC lacks the plugins that play this stream (%s: the MPEG-TS demuxer and the H.264 decoder); on Debian: apt-get install vlc-plugin-base",
	    g_string_free(missing, FALSE));
}

/* Whether args hold option opt, as "opt", "opt=..." or "opt ...". */
static gboolean
has_option(char **args, const char *opt)
{
	size_t n = strlen(opt);

	for (; args != NULL && *args != NULL; args++)
		if (strncmp(*args, opt, n) == 0 && ((*args)[n] == '=' || (*args)[n] == '\0'))
			return TRUE;
	return FALSE;
}

/* Without an interface plugin VLC falls back to its command line
 * interface, which quits at once on a stdin that is not a terminal; without
 * a window and a video output for the session it plays no picture. */
static gboolean
vlc_check(char **args, GError **error)
{
	g_auto(GStrv) dirs = vlc_plugin_dirs();
	g_autofree char *codecs = NULL;
	gboolean remote, x11 = x11_ok(&remote), wl = wayland_ok();

	if ((codecs = player_vlc_missing_codecs()) != NULL) {
		g_set_error_literal(error, PLAYER_ERROR, 0, codecs);
		return FALSE;
	}
	if (!has_option(args, "--intf") && !has_option(args, "-I") &&
	    !vlc_has(dirs, "gui/libqt_plugin.so") &&
	    !vlc_has(dirs, "gui/libskins2_plugin.so")) {
		g_set_error(error, PLAYER_ERROR, 0,
		    "VLC has no interface to play in (gui/libqt_plugin.so); on Debian: apt-get install vlc-plugin-qt");
		return FALSE;
	}
	if (!has_option(args, "--vout") && !has_option(args, "-V") &&
	    !(x11 && vlc_has(dirs, "video_output/libxcb_window_plugin.so")) &&
	    !(wl && vlc_has(dirs, "video_output/libxdg_shell_plugin.so"))) {
		g_set_error(error, PLAYER_ERROR, 0,
		    "VLC has no video output for this %s display (video_output/%s); on Debian: apt-get install vlc-plugin-video-output",
		    x11 ? "X11" : "Wayland",
		    x11 ? "libxcb_window_plugin.so" : "libxdg_shell_plugin.so");
		return FALSE;
	}
	return TRUE;
}


gboolean
player_check(const char *name, char **args, GError **error)
{
	g_autofree char *path = g_find_program_in_path(name);

	if (path == NULL) {
		g_set_error(error, PLAYER_ERROR, 0,
		    "%s is not installed; on Debian: apt-get install %s",
		    strcmp(name, "vlc") == 0 ? "VLC" : name, name);
		return FALSE;
	}
	if (strcmp(name, "vlc") == 0 && geteuid() == 0) {
		g_set_error(error, PLAYER_ERROR, 0,
		    "VLC refuses to run as root: run the viewer as your own user, or use --player mpv");
		return FALSE;
	}
	if (strcmp(name, "vlc") == 0)
		return (has_option(args, "--vout") || has_option(args, "-V") ||
		    player_display_ok(error)) && vlc_check(args, error);
	return has_option(args, "--vo") || player_display_ok(error);
}

const char *
player_pick(char **args, GError **error)
{
	g_autoptr(GError) mpv = NULL, vlc = NULL;

	if (player_check("mpv", args, &mpv))
		return "mpv";
	if (player_check("vlc", args, &vlc))
		return "vlc";
	/* The display is the same problem for both: say it once. */
	if (!player_display_ok(error))
		return NULL;
	g_set_error(error, PLAYER_ERROR, 0, "no player can play here (%s; %s)",
	    mpv->message, vlc->message);
	return NULL;
}
