/* pp-bridge: MPEG-TS on stdin, served to local players over
 * http://127.0.0.1:PORT/, each client starting at a keyframe (lib/fanq);
 * optionally launches mpv or VLC on that URL. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib-unix.h>
#include <glib.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "fanq.h"
#include "http.h"
#include "log.h"
#include "opt.h"
#include "player.h"
#include "sandbox.h"
#include "spawn.h"
#include "status.h"

#define REQUEST_TIMEOUT_S	10
#define MAX_CLIENTS		64	/* waiting and playing, at once */
#define CLIENT_SNDBUF		(64 << 10)	/* what a stalled client holds in the kernel */

static unsigned port;			/* --port, 0: any free one */
static const char *player = "auto";	/* --player */
static const char *player_args;		/* --player-args */
static unsigned max_lag_ms = FANQ_DEFAULT_MAX_LAG_MS;	/* --max-lag */

typedef struct {
	int fd;
	unsigned id;
	char buf[HTTP_MAX_REQUEST];
	size_t len;
	guint watch, timer;
} Pending;

static struct {
	GMainLoop *loop;
	Fanq *q;
	int listen_fd;
	Acceptor *acceptor;
	GList *pending;
	unsigned next_id;
	gboolean stdin_done;
	char *url;
	char token[33];		/* the URL's secret path */
	HttpSite site;
} B = { .listen_fd = -1 };

static const char usage_text[] =
    "usage: pp-bridge [--port port] [--player auto|mpv|vlc|none] [--player-args args]\n"
    "           [--max-lag ms] [--status-fd n]\n"
    "       pp-bridge --check [--player auto|mpv|vlc] [--player-args args]\n"
    "       pp-bridge --help | --version\n";

/* The players and the options that keep them close to live. */
static const char *const mpv_opts[] = {
	"--profile=low-latency",	/* no frame threads, small probe */
	"--cache=no",
	"--title=pixelpass",
	NULL
};
static const char *const vlc_opts[] = {
	"--network-caching=200",	/* ms; the default is 1000 */
	NULL
};

static void
pending_free(Pending *p, gboolean close_fd)
{
	B.pending = g_list_remove(B.pending, p);
	if (p->watch)
		g_source_remove(p->watch);
	if (p->timer)
		g_source_remove(p->timer);
	if (close_fd)
		close(p->fd);
	g_free(p);
}

static void
quit_if_done(void)
{
	if (B.stdin_done && fanq_count(B.q) == 0)
		g_main_loop_quit(B.loop);
}

static void
on_gone(FanqConsumer *c, const char *reason, gpointer data)
{
	log_info("%s left: %s (%" PRIu64 " bytes, %u skips)",
	    fanq_consumer_name(c), reason != NULL ? reason : "end of stream",
	    fanq_consumer_bytes(c), fanq_consumer_skips(c));
	quit_if_done();
}

static void
answer(Pending *p, int status)
{
	g_autofree char *resp = http_error_response(status);

	log_info("client %u: answered %d", p->id, status);
	/* Small enough for any socket buffer; a client that is not
	 * reading loses it, and nothing else. */
	if (write(p->fd, resp, strlen(resp)) < 0)
		log_debug("client %u: %s", p->id, g_strerror(errno));
	shutdown(p->fd, SHUT_WR);
	pending_free(p, TRUE);
}

static gboolean
on_request_data(int fd, GIOCondition cond, gpointer data)
{
	Pending *p = data;
	HttpRequest req;
	ssize_t r;
	int status;

	r = read(fd, p->buf + p->len, sizeof(p->buf) - p->len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	p->watch = 0;
	if (r <= 0) {
		pending_free(p, TRUE);
		return G_SOURCE_REMOVE;
	}
	p->len += r;
	status = http_parse_request(p->buf, p->len, &B.site, &req);
	if (status == 0) {
		if (p->len < sizeof(p->buf)) {
			p->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
			    on_request_data, p);
			return G_SOURCE_REMOVE;
		}
		status = 400;
	}
	if (status != 200) {
		answer(p, status);
		return G_SOURCE_REMOVE;
	}
	{
		g_autofree char *hdr = http_stream_response();
		g_autofree char *name = g_strdup_printf("client %u", p->id);

		if (req.head) {
			if (write(fd, hdr, strlen(hdr)) < 0)
				log_debug("client %u: %s", p->id, g_strerror(errno));
			pending_free(p, TRUE);
			return G_SOURCE_REMOVE;
		}
		/* The kernel's default buffer (megabytes, autotuned) would let
		 * a client that stops reading sit far behind before the queue
		 * sees it lag; the queue owns the fd from now on. */
		int sndbuf = CLIENT_SNDBUF;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		fanq_add(B.q, fd, name, hdr, strlen(hdr), on_gone, NULL);
		log_info("%s: playing (%u clients)", name, fanq_count(B.q));
		pending_free(p, FALSE);
	}
	return G_SOURCE_REMOVE;
}

static gboolean
on_request_timeout(gpointer data)
{
	Pending *p = data;

	p->timer = 0;
	log_info("client %u: no request within %d s", p->id, REQUEST_TIMEOUT_S);
	pending_free(p, TRUE);
	return G_SOURCE_REMOVE;
}

/* A new client: its request, within REQUEST_TIMEOUT_S. Past MAX_CLIENTS
 * it is told 503 and closed. */
static void
on_client(int c, gpointer data)
{
	Pending *p;

	if (g_list_length(B.pending) + fanq_count(B.q) >= MAX_CLIENTS) {
		g_autofree char *resp = http_error_response(503);

		if (write(c, resp, strlen(resp)) < 0)
			log_debug("a client over the limit: %s", g_strerror(errno));
		close(c);
		log_info("a client over the limit of %d: answered 503", MAX_CLIENTS);
		return;
	}
	p = g_new0(Pending, 1);
	p->fd = c;
	p->id = ++B.next_id;
	p->watch = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR,
	    on_request_data, p);
	p->timer = g_timeout_add_seconds(REQUEST_TIMEOUT_S, on_request_timeout, p);
	B.pending = g_list_prepend(B.pending, p);
}

static gboolean
on_stdin(int fd, GIOCondition cond, gpointer data)
{
	if (fanq_read_fd(B.q, fd) >= 0)
		return G_SOURCE_CONTINUE;
	if (errno != 0)
		log_info("reading stdin: %s", g_strerror(errno));
	B.stdin_done = TRUE;
	/* No newcomers: there is nothing left to start them at. */
	acceptor_free(B.acceptor);
	B.acceptor = NULL;
	close(B.listen_fd);
	while (B.pending != NULL)
		pending_free(B.pending->data, TRUE);
	log_info("end of the input stream: %u clients get what is left",
	    fanq_count(B.q));
	fanq_finish(B.q);
	quit_if_done();
	return G_SOURCE_REMOVE;
}

static gboolean
on_quit_signal(gpointer data)
{
	g_main_loop_quit(B.loop);
	return G_SOURCE_CONTINUE;
}

/* mpv's script that plays faster while it is behind, so that it stays
 * live (data/pixelpass-live.lua); PP_DATADIR stands for the installed
 * data directory in the build tree. NULL when it is not there. */
static char *
live_script(void)
{
	const char *dir = g_getenv("PP_DATADIR");
	char *path = g_build_filename(dir != NULL && *dir != '\0' ? dir :
	    PKGDATADIR, "pixelpass-live.lua", NULL);

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_free(path);
		return NULL;
	}
	return path;
}

/* The command line that plays the URL, extra options before it. */
static char **
player_argv(const char *name, char **extra)
{
	GPtrArray *a = g_ptr_array_new();
	const char *const *o = strcmp(name, "mpv") == 0 ? mpv_opts : vlc_opts;

	g_ptr_array_add(a, g_strdup(name));
	for (; *o != NULL; o++)
		g_ptr_array_add(a, g_strdup(*o));
	if (strcmp(name, "mpv") == 0) {
		g_autofree char *live = live_script();

		if (live != NULL)
			g_ptr_array_add(a, g_strconcat("--script=", live, NULL));
	}
	for (; extra != NULL && *extra != NULL; extra++)
		g_ptr_array_add(a, g_strdup(*extra));
	g_ptr_array_add(a, g_strdup(B.url));
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

static void
print_commands(const char *why)
{
	g_auto(GStrv) mpv = player_argv("mpv", NULL);
	g_auto(GStrv) vlc = player_argv("vlc", NULL);
	g_autofree char *m = g_strjoinv(" ", mpv), *v = g_strjoinv(" ", vlc);

	log_info("%s: play it with: %s", why, m);
	log_info("or: %s", v);
}

/* An empty log younger than this may be one that another run is just
 * creating: its lock is taken just after the file is. */
#define LOG_YOUNG_S	5

/* Where the player's output goes: $XDG_RUNTIME_DIR, the user's own and
 * emptied at logout; without it one directory of ours under the
 * temporary directory, 0700 and reused by every run, rather than a file
 * per run loose in /tmp. NULL (said why) when that directory is not
 * safely ours. */
static char *
log_dir(void)
{
	const char *run = g_getenv("XDG_RUNTIME_DIR");
	g_autofree char *dir = NULL;
	struct stat st;

	if (run != NULL && *run == '/' && g_file_test(run, G_FILE_TEST_IS_DIR))
		return g_strdup(run);
	dir = g_strdup_printf("%s/pp-bridge-%u", g_get_tmp_dir(),
	    (unsigned)geteuid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_info("cannot create %s (%s): the player's output is lost",
		    dir, g_strerror(errno));
		return NULL;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		log_info("%s is not a private directory of ours: the player's output is lost",
		    dir);
		return NULL;
	}
	return g_steal_pointer(&dir);
}

/* Removes the logs of players that have ended. A player holds the lock
 * that pp-bridge took on its log (flock belongs to the open file, which
 * the player's stdout and stderr are) for as long as it runs, however
 * long it outlives pp-bridge: a log that can be locked is over. */
static void
remove_old_logs(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	time_t now = time(NULL);

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = NULL;
		struct stat st;
		int fd;

		if (!g_str_has_prefix(name, "pp-bridge-") ||
		    !g_str_has_suffix(name, ".log"))
			continue;
		path = g_build_filename(dir, name, NULL);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() &&
		    (st.st_size > 0 || now - st.st_mtime > LOG_YOUNG_S) &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0) {
			log_debug("removing %s: its player has ended", path);
			unlink(path);
		}
		close(fd);
	}
}

static void
launch(const char *name, char **extra)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = player_argv(name, extra);
	g_autofree char *path = NULL, *dir = log_dir();
	SpawnOpts o = { .in = -1, .out = -1, .err = -1, .flags = SPAWN_DETACH };
	int logfd, devnull;
	pid_t pid;

	logfd = -1;
	if (dir != NULL) {
		remove_old_logs(dir);
		path = g_strdup_printf("%s/pp-bridge-%s-%d.log", dir, name,
		    (int)getpid());
		logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (logfd < 0)
			log_info("cannot create %s (%s): the player's output is lost",
			    path, g_strerror(errno));
		else
			flock(logfd, LOCK_EX | LOCK_NB);	/* see remove_old_logs */
	}
	if (logfd < 0) {
		g_free(path);
		path = g_strdup("/dev/null");
		logfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	o.in = devnull;
	o.out = o.err = logfd;
	/* Its own session: the player is the user's, it outlives us. */
	pid = spawn_child((const char *const *)argv, &o, &error);
	close(logfd);
	close(devnull);
	if (pid < 0) {
		log_info("cannot start %s: %s", name, error->message);
		print_commands("no player started");
		return;
	}
	log_info("started %s (pid %d), its output in %s", name, (int)pid, path);
	if (status_enabled()) {
		g_autofree char *spid = g_strdup_printf("%d", (int)pid);

		status_event("player-started", "player", name, "pid", spid,
		    "log", path, NULL);
	}
}

/* The player that --player and --player-args ask for, checked before the
 * URL is printed: one that cannot play here is an error (69), not a
 * player that quits at once. NULL for none. */
static const char *
check_player(char **extra)
{
	g_autoptr(GError) error = NULL;
	const char *name = player;

	if (strcmp(name, "none") == 0)
		return NULL;
	if (strcmp(name, "auto") == 0)
		name = player_pick(extra, &error);
	else if (!player_check(name, extra, &error))
		name = NULL;
	if (name == NULL)
		errx(EX_UNAVAILABLE, "%s", error->message);
	return name;
}

static void
start_player(const char *name, char **extra)
{
	g_autofree char *vlc = NULL;

	if (name != NULL) {
		launch(name, extra);
		return;
	}
	if ((vlc = player_vlc_missing_codecs()) != NULL)
		log_info("%s", vlc);
	print_commands("no player asked for");
}

/* 128 random bits in hex: the URL's path, which only the player is told. */
static void
new_token(char out[33])
{
	uint8_t r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		err(EX_OSERR, "getrandom");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static int
listen_tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		err(EX_OSERR, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EADDRINUSE)
			errx(EX_TEMPFAIL, "port %u on 127.0.0.1 is in use: choose another --port, or leave it out for a free one",
			    port);
		err(EX_UNAVAILABLE, "cannot listen on 127.0.0.1:%u", port);
	}
	if (listen(fd, 16) < 0)
		err(EX_OSERR, "listen");
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		err(EX_OSERR, "getsockname");
	port = ntohs(sa.sin_port);
	return fd;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "player", required_argument, NULL, 'P' },
		{ "player-args", required_argument, NULL, 'a' },
		{ "max-lag", required_argument, NULL, 'm' },
		{ "check", no_argument, NULL, 'c' },
		{ "status-fd", required_argument, NULL, 'S' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	static const char shortopts[] = "p:P:a:m:S:h";
	FanqLimits limits = { 0 };
	g_auto(GStrv) extra = NULL;
	g_autoptr(GError) error = NULL;
	const char *name;
	int ch, check = 0;

	log_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = opt_number("--port", optarg, 1, 65535);
			break;
		case 'P':
			player = optarg;
			break;
		case 'a':
			player_args = optarg;
			break;
		case 'm':
			max_lag_ms = opt_number("--max-lag", optarg, 40, 60000);
			break;
		case 'c':
			check = 1;
			break;
		case 'S':
			status_open(optarg);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, shortopts, longopts);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc > 0)
		opt_usage(usage_text, EX_USAGE);
	if (strcmp(player, "auto") != 0 && strcmp(player, "mpv") != 0 &&
	    strcmp(player, "vlc") != 0 && strcmp(player, "none") != 0)
		errx(EX_USAGE, "--player %s: choose auto, mpv, vlc or none", player);
	if (player_args != NULL && *player_args != '\0' &&
	    !g_shell_parse_argv(player_args, NULL, &extra, &error))
		errx(EX_USAGE, "--player-args: %s", error->message);
	name = check_player(extra);
	if (check) {
		printf("%s\n", name != NULL ? name : "none");
		return fflush(stdout) == EOF ? EX_IOERR : 0;
	}
	if (isatty(STDIN_FILENO))
		errx(EX_USAGE, "stdin is a terminal: pipe an MPEG-TS stream into pp-bridge");

	B.listen_fd = listen_tcp();
	new_token(B.token);
	B.site = (HttpSite){ .token = B.token, .port = port };
	B.url = g_strdup_printf("http://127.0.0.1:%u/%s/", port, B.token);
	/* The URL is the one line on stdout, for whoever started us. */
	printf("%s\n", B.url);
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");

	signal(SIGPIPE, SIG_IGN);
	limits.max_lag_ms = max_lag_ms;
	B.q = fanq_new(&limits);
	B.loop = g_main_loop_new(NULL, FALSE);
	B.acceptor = acceptor_new(B.listen_fd, on_client, NULL);
	g_unix_set_fd_nonblocking(STDIN_FILENO, TRUE, NULL);
	g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
	log_info("serving %s", B.url);
	status_event("ready", "url", B.url, NULL);
	start_player(name, extra);
	/* From here on pp-bridge serves the sockets it has: the filesystem
	 * is closed to it (pp-bridge(1), SECURITY). The player, started
	 * before, is not confined. Before the signal sources, whose worker
	 * thread Landlock would leave free. */
	sandbox_enter_or_exit("pp-bridge", NULL, 0, 0);
	g_unix_signal_add(SIGTERM, on_quit_signal, NULL);
	g_unix_signal_add(SIGINT, on_quit_signal, NULL);
	g_main_loop_run(B.loop);

	while (B.pending != NULL)
		pending_free(B.pending->data, TRUE);
	fanq_free(B.q);
	return 0;
}
