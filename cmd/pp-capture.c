/* pp-capture: gets the screen (and the sound routing) and runs a program
 * with them: the ScreenCast portal's PipeWire remote on fd 3 and PP_*
 * variables. It stays that program's parent, because the portal session
 * lives as long as this process's D-Bus connection. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <sys/wait.h>

#include "audio.h"
#include "capture-env.h"
#include "log.h"
#include "opt.h"
#include "portal.h"
#include "pwglib.h"
#include "spawn.h"
#include "status.h"

enum source { SRC_PORTAL, SRC_X11, SRC_TEST };

static enum source source;	/* --source */
static int source_set;
static int window;		/* --window: a window, not a monitor */
static const char *window_id;	/* --window-id: that X11 window */
static int hide_cursor;		/* --cursor hidden */
static const char *app;		/* --app: route this application's sound */
static int mic;			/* --mic */
static int no_audio;		/* --no-audio */
static int select_only;		/* --select-only: pick, remember, exit */

static GMainLoop *loop;
static pid_t child = -1;
static int child_status = -1;
static gboolean stopping;

static const char usage_text[] =
    "usage: pp-capture [--source portal|x11|test] [--window] [--window-id ID]\n"
    "           [--cursor embedded|hidden] [--app NAME] [--mic] [--no-audio]\n"
    "           [--select-only] [--status-fd n] [--verbose] -- prog [args ...]\n"
    "       pp-capture --list-apps\n"
    "       pp-capture --help | --version\n";

static gboolean
on_signal(gpointer data)
{
	int sig = GPOINTER_TO_INT(data);

	if (child > 0)
		kill(child, sig);
	else if (sig != SIGUSR1)
		exit(128 + sig);
	return G_SOURCE_CONTINUE;
}

static void
on_child_exit(GPid pid, int status, gpointer data)
{
	child_status = status;
	child = -1;
	g_spawn_close_pid(pid);
	g_main_loop_quit(loop);
}

/* The share was stopped from the desktop: let the child finish cleanly. */
static void
on_share_ended(gpointer data)
{
	if (stopping || child <= 0)
		return;
	stopping = TRUE;
	log_info("the screen share was stopped from the desktop");
	status_event("share-stopped", "by", "desktop", NULL);
	kill(child, SIGTERM);
}

/* PP_* of an outer pp-capture must not leak into this child's contract. */
static char **
child_env(void)
{
	char **env = g_get_environ();
	static const char *const ours[] = PP_ENV_ALL;

	for (const char *const *v = ours; *v; v++)
		env = g_environ_unsetenv(env, *v);
	return env;
}

/* The contract the child gets, as an event: what is shared. */
static void
capture_ready_event(char **env)
{
	const char *audio = g_environ_getenv(env, PP_ENV_AUDIO_DEVICE);

	if (g_environ_getenv(env, PP_ENV_NO_AUDIO) != NULL)
		audio = "none";
	status_event("capture-ready",
	    "source", g_environ_getenv(env, PP_ENV_SOURCE),
	    "node", g_environ_getenv(env, PP_ENV_PIPEWIRE_NODE),
	    "width", g_environ_getenv(env, PP_ENV_WIDTH),
	    "height", g_environ_getenv(env, PP_ENV_HEIGHT),
	    "display", g_environ_getenv(env, PP_ENV_DISPLAY),
	    "window", g_environ_getenv(env, PP_ENV_WINDOW_ID),
	    "cursor", g_environ_getenv(env, PP_ENV_CURSOR),
	    "audio", audio, "mic",
	    g_environ_getenv(env, PP_ENV_MIC) != NULL ? "yes" : "no", NULL);
}

static char *
pick_x11_window(const char *display)
{
	/* xwininfo grabs the pointer and reports the window clicked. */
	const char *argv[] = { "xwininfo", "-display", display, NULL };
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	int status;
	char *p;

	fprintf(stderr, "pp-capture: click the window to share\n");
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
	    G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &error))
		errx(EX_UNAVAILABLE, "cannot run xwininfo to pick a window (%s): install x11-utils or pass --window-id", error->message);
	if (!g_spawn_check_wait_status(status, NULL) ||
	    (p = strstr(out, "Window id: ")) == NULL)
		errx(EX_NOPERM, "no window was picked: click a window, or pass --window-id");
	p += strlen("Window id: ");
	return g_strndup(p, strcspn(p, " \n"));
}

static int
print_apps(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) apps = NULL;
	Audio *a;

	if ((a = audio_connect(&error)) == NULL)
		errx(EX_UNAVAILABLE, "%s: start pipewire (and wireplumber) in this session", error->message);
	apps = audio_list_apps(a);
	for (char **p = apps; *p; p++)
		printf("%s\n", *p);
	audio_free(a);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

/* Sets PP_AUDIO_DEVICE (and PP_MIC); keeps the connection while a
 * routing lasts. Without PipeWire the share goes on without sound. */
static Audio *
setup_audio(char ***env)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dev = NULL;
	Audio *a;

	if ((a = audio_connect(&error)) == NULL) {
		log_info("%s: sharing without sound", error->message);
		*env = g_environ_setenv(*env, PP_ENV_NO_AUDIO, "1", TRUE);
		return NULL;
	}
	if (app != NULL) {
		if ((dev = audio_route_app(a, app, &error)) == NULL) {
			audio_free(a);
			errx(EX_UNAVAILABLE, "cannot capture the sound of %s: %s", app, error->message);
		}
	} else {
		dev = audio_default_monitor(a);
		if (dev == NULL)
			log_info("PipeWire has no default sink: the child records its default input");
	}
	if (dev != NULL)
		*env = g_environ_setenv(*env, PP_ENV_AUDIO_DEVICE, dev, TRUE);
	if (mic)
		*env = g_environ_setenv(*env, PP_ENV_MIC, "1", TRUE);
	if (app == NULL) {
		audio_free(a);
		a = NULL;
	}
	return a;
}

static int
parse_source(const char *s)
{
	if (strcmp(s, "portal") == 0)
		return SRC_PORTAL;
	if (strcmp(s, "x11") == 0)
		return SRC_X11;
	if (strcmp(s, "test") == 0)
		return SRC_TEST;
	errx(EX_USAGE, "--source %s: expected portal, x11 or test", s);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "source",	required_argument,	NULL, 's' },
		{ "window",	no_argument,		NULL, 'w' },
		{ "window-id",	required_argument,	NULL, 'W' },
		{ "cursor",	required_argument,	NULL, 'c' },
		{ "app",	required_argument,	NULL, 'a' },
		{ "mic",	no_argument,		NULL, 'm' },
		{ "no-audio",	no_argument,		NULL, 'n' },
		{ "select-only", no_argument,		NULL, 'S' },
		{ "list-apps",	no_argument,		NULL, 'L' },
		{ "status-fd",	required_argument,	NULL, 'F' },
		{ "verbose",	no_argument,		NULL, 'v' },
		OPT_HELP_VERSION,
		{ NULL,		0,			NULL, 0 }
	};
	g_auto(GStrv) env = NULL;
	g_autofree char *picked = NULL;
	Portal *portal = NULL;
	Audio *audio = NULL;
	PwglibNodeWatch *watch = NULL;
	int list_apps = 0, ch, pwfd = -1, rc;
	const char *display;

	log_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			source = parse_source(optarg);
			source_set = 1;
			break;
		case 'w':
			window = 1;
			break;
		case 'W':
			window = 1;
			window_id = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "hidden") == 0)
				hide_cursor = 1;
			else if (strcmp(optarg, "embedded") == 0)
				hide_cursor = 0;
			else
				errx(EX_USAGE, "--cursor %s: expected embedded or hidden", optarg);
			break;
		case 'a':
			app = optarg;
			break;
		case 'm':
			mic = 1;
			break;
		case 'n':
			no_audio = 1;
			break;
		case 'S':
			select_only = 1;
			break;
		case 'L':
			list_apps = 1;
			break;
		case 'F':
			status_open(optarg);
			break;
		case 'v':
			log_set_verbose(TRUE);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, "h", longopts);
		}
	}
	argc -= optind;
	argv += optind;

	if (list_apps) {
		if (argc > 0)
			errx(EX_USAGE, "--list-apps takes no program");
		return print_apps();
	}
	if (!source_set)
		source = getenv("WAYLAND_DISPLAY") != NULL &&
		    *getenv("WAYLAND_DISPLAY") != '\0' ? SRC_PORTAL : SRC_X11;
	if (select_only && source != SRC_PORTAL)
		errx(EX_USAGE, "--select-only is for --source portal: other sources have no dialog");
	if (!select_only && argc == 0)
		errx(EX_USAGE, "no program to run: pp-capture [options] -- PROG [ARGS ...]");
	if (select_only && argc > 0)
		errx(EX_USAGE, "--select-only runs no program");
	if (window_id != NULL && source != SRC_X11)
		errx(EX_USAGE, "--window-id is for --source x11: the portal lets the user pick the window");
	if (no_audio && (app != NULL || mic))
		errx(EX_USAGE, "--no-audio cannot be combined with --app or --mic");

	env = child_env();
	switch (source) {
	case SRC_PORTAL: {
		PortalRequest req = { .window = window, .hide_cursor = hide_cursor };
		PortalStatus st;
		g_autofree char *msg = NULL;
		char buf[32];

		portal = portal_start(&req, &st, &msg);
		if (portal == NULL)
			errx(st == PORTAL_CANCELLED ? EX_NOPERM : EX_UNAVAILABLE, "%s", msg);
		if (select_only) {
			portal_free(portal);
			return 0;
		}
		if ((pwfd = portal_pipewire_fd(portal)) < 0)
			errx(EX_UNAVAILABLE, "the portal gave no PipeWire remote: check that pipewire runs in this session");
		env = g_environ_setenv(env, PP_ENV_SOURCE, "portal", TRUE);
		snprintf(buf, sizeof(buf), "%u", portal_node(portal));
		env = g_environ_setenv(env, PP_ENV_PIPEWIRE_NODE, buf, TRUE);
		if (portal_width(portal) > 0) {
			snprintf(buf, sizeof(buf), "%d", portal_width(portal));
			env = g_environ_setenv(env, PP_ENV_WIDTH, buf, TRUE);
			snprintf(buf, sizeof(buf), "%d", portal_height(portal));
			env = g_environ_setenv(env, PP_ENV_HEIGHT, buf, TRUE);
		}
		break;
	}
	case SRC_X11:
		display = getenv("DISPLAY");
		if (display == NULL || *display == '\0')
			errx(EX_UNAVAILABLE, "no X display (DISPLAY is not set): run inside an X session, or use --source portal on Wayland");
		env = g_environ_setenv(env, PP_ENV_SOURCE, "x11", TRUE);
		env = g_environ_setenv(env, PP_ENV_DISPLAY, display, TRUE);
		if (window) {
			if (window_id == NULL)
				window_id = picked = pick_x11_window(display);
			env = g_environ_setenv(env, PP_ENV_WINDOW_ID, window_id, TRUE);
		}
		break;
	case SRC_TEST:
		env = g_environ_setenv(env, PP_ENV_SOURCE, "test", TRUE);
		break;
	}
	env = g_environ_setenv(env, PP_ENV_CURSOR, hide_cursor ? "hidden" : "embedded", TRUE);
	/* The test source's sound is the child's own test tone: nothing to
	 * route, unless an application's sound or the microphone was
	 * asked for. */
	if (no_audio)
		env = g_environ_setenv(env, PP_ENV_NO_AUDIO, "1", TRUE);
	else if (source != SRC_TEST || app != NULL || mic)
		audio = setup_audio(&env);

	capture_ready_event(env);
	loop = g_main_loop_new(NULL, FALSE);
	/* Handled (not ignored) so that the child starts with defaults. */
	g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
	g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));
	g_unix_signal_add(SIGUSR1, on_signal, GINT_TO_POINTER(SIGUSR1));

	{
		g_autoptr(GError) error = NULL;
		int dst = 3;
		SpawnOpts so = { .in = -1, .out = -1, .err = -1,
		    .src_fds = &pwfd, .dst_fds = &dst, .n_fds = pwfd >= 0,
		    .envp = env };

		child = spawn_child((const char *const *)argv, &so, &error);
		if (child < 0) {
			audio_free(audio);
			portal_free(portal);
			errx(EX_UNAVAILABLE, "cannot run %s: %s", argv[0], error->message);
		}
		if (pwfd >= 0)
			close(pwfd);
		g_child_watch_add(child, on_child_exit, NULL);
		if (status_enabled()) {
			g_autofree char *spid = g_strdup_printf("%d", (int)child);

			status_event("child-started", "pid", spid, NULL);
		}
	}
	if (portal != NULL) {
		int wfd = portal_pipewire_fd(portal);

		portal_on_closed(portal, on_share_ended, NULL);
		if (wfd >= 0)
			watch = pwglib_watch_node(wfd, portal_node(portal),
			    on_share_ended, NULL);
	}

	g_main_loop_run(loop);

	pwglib_watch_free(watch);
	audio_free(audio);
	portal_free(portal);
	if (WIFEXITED(child_status))
		rc = WEXITSTATUS(child_status);
	else if (WIFSIGNALED(child_status))
		rc = 128 + WTERMSIG(child_status);
	else
		rc = EX_SOFTWARE;
	if (status_enabled()) {
		g_autofree char *src = g_strdup_printf("%d", rc);

		status_event("child-exited", "status", src, NULL);
	}
	return rc;
}
