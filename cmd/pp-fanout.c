/* pp-fanout: one MPEG-TS producer, many consumers on a Unix socket. The
 * producer runs while someone is attached; each consumer starts at a
 * keyframe and never slows the others (lib/fanq). */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib-unix.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "acceptor.h"
#include "fanq.h"
#include "lastline.h"
#include "log.h"
#include "opt.h"
#include "spawn.h"
#include "status.h"
#include "ts.h"

#define KICK_INTERVAL_US	(500 * G_TIME_SPAN_MILLISECOND)
#define GRACE_S			5	/* SIGTERM, then SIGKILL */
#define EOF_GRACE_MS		1000	/* output closed, still running */
#define FILE_CHUNK		(64 << 10)	/* read from a recording at once */
#define FILE_SLACK_US		2000	/* a packet due this soon goes now */
#define MAX_CONSUMERS		1024	/* attached at once (pp-fanout(1)) */
#define STALL_S			10	/* no input byte: said */
#define NO_KEYFRAME_S		10	/* bytes but no keyframe: said */

static const char *socket_path;		/* --socket */
static unsigned linger_s;		/* --linger */
static unsigned max_lag_ms = FANQ_DEFAULT_MAX_LAG_MS;	/* --max-lag */
static unsigned drop_after_s = FANQ_DEFAULT_DROP_AFTER_MS / 1000; /* --drop-after */
static int no_keyframe_signal;		/* --no-keyframe-signal */
static int layer = -1;			/* attach --layer, -1: not asked */

typedef struct {
	pid_t pid;			/* 0 once reaped */
	int out;			/* its stdout; -1 once at EOF */
	guint out_watch, kill_timer, eof_timer;
	gboolean stopping;		/* we asked it to stop */
	gboolean got_data;
	Fanq *q;			/* the stream it feeds, until it ends */
	LastLine *err;			/* its stderr, passed on */
} Producer;

static struct {
	GMainLoop *loop;
	int listen_fd;
	char *bound_path;		/* ours to unlink */
	char **producer;		/* argv, NULL: read stdin */
	Producer *prod;
	Fanq *q;			/* newcomers join this one */
	GPtrArray *old;			/* earlier ones, still draining */
	FanqLimits limits;
	unsigned next_id;
	Acceptor *acceptor;
	guint linger_timer, kick_timer;
	gint64 last_kick;
	gboolean stdin_done, quitting;
	/* What the input looks like, checked each second (input_check). */
	struct {
		Fanq *q;		/* the queue the counts are of */
		uint64_t bytes, keys;
		gint64 bytes_at, keys_at;	/* when they last moved */
		gboolean said_stall, said_nokey;
	} in;
	/* A recording on stdin (a regular file), played at its own clock
	 * from the first join on. */
	struct {
		gboolean paced, started;
		TsPacer pacer;
		uint8_t buf[FILE_CHUNK];
		size_t len, off;	/* buf[off..len): not pushed yet */
		int64_t due;		/* of the packet at off; -1: not fed */
		guint timer;
	} file;
} S = { .listen_fd = -1, .file.due = -1 };

static const char usage_text[] =
    "usage: pp-fanout serve --socket path [--linger seconds] [--max-lag ms]\n"
    "           [--drop-after seconds] [--no-keyframe-signal] [--status-fd n]\n"
    "           [-- producer [arg ...]]\n"
    "       pp-fanout attach --socket path [--layer n]\n"
    "       pp-fanout --help | --version\n";

static char *
describe_status(int status)
{
	if (WIFEXITED(status))
		return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return g_strdup_printf("was killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	return g_strdup_printf("ended with wait status %#x", status);
}

static void producer_start(void);
static void producer_finish(Producer *p, const char *failure);

static void
quit(void)
{
	g_main_loop_quit(S.loop);
}

/* A queue that no newcomer can join any more goes when it is empty. It
 * may already be gone: a consumer's callback inside fanq_finish frees it,
 * and the caller asks again after. Only a queue still in S.old is looked
 * at. */
static void
maybe_free_queue(Fanq *q)
{
	guint i;

	if (q == S.q || !g_ptr_array_find(S.old, q, &i))
		return;
	if (fanq_finished(q) && fanq_count(q) == 0) {
		g_ptr_array_remove_index(S.old, i);
		fanq_free(q);
	}
}

static const char *consumer_id(FanqConsumer *c);

static void
on_layer(FanqConsumer *c, unsigned n, const char *reason, gpointer data)
{
	g_autofree char *sn = g_strdup_printf("%u", n);

	status_event("consumer-layer", "id", consumer_id(c), "layer", sn,
	    "reason", reason, NULL);
}

static void kick(void);

/* A consumer moving to another layer: the producer's next keyframe
 * lets it move now (issue 19: at 3 Mbit/s, a 6 Mbit/s consumer waiting
 * up to a keyframe interval for it fell 700 ms behind and was skipped). */
static void
on_keyframe_wanted(gpointer data)
{
	kick();
}

static Fanq *
queue_new(void)
{
	Fanq *q = fanq_new(&S.limits);

	fanq_set_layer_func(q, on_layer, NULL);
	fanq_set_keyframe_func(q, on_keyframe_wanted, NULL);
	return q;
}

/* Newcomers join a fresh queue from now on (a new producer's stream). */
static void
new_queue(void)
{
	g_ptr_array_add(S.old, S.q);
	S.q = queue_new();
}

static void
send_kick(void)
{
	if (S.prod == NULL || S.prod->stopping || S.prod->pid == 0)
		return;
	S.last_kick = g_get_monotonic_time();
	if (kill(-S.prod->pid, SIGUSR1) < 0)
		log_info("cannot ask the producer for a keyframe: %s", g_strerror(errno));
	else
		log_debug("asked the producer (pid %d) for a keyframe", (int)S.prod->pid);
}

static gboolean
on_kick_timer(gpointer data)
{
	S.kick_timer = 0;
	send_kick();
	return G_SOURCE_REMOVE;
}

/* A newcomer would rather start at a fresh keyframe than wait a GOP for
 * one, and so would a consumer moving to another layer. Not before the
 * producer has written anything: until then it may not have set up its
 * SIGUSR1 handler (the default action kills), and its first picture is a
 * keyframe anyway. At most one signal per KICK_INTERVAL; a join within
 * it gets the one at its end. */
static void
kick(void)
{
	gint64 since;

	if (no_keyframe_signal || S.prod == NULL || S.prod->stopping ||
	    !S.prod->got_data || S.kick_timer != 0)
		return;
	since = g_get_monotonic_time() - S.last_kick;
	if (since >= KICK_INTERVAL_US)
		send_kick();
	else
		S.kick_timer = g_timeout_add((KICK_INTERVAL_US - since) / 1000 + 1,
		    on_kick_timer, NULL);
}

static gboolean
on_grace_over(gpointer data)
{
	Producer *p = data;

	p->kill_timer = 0;
	log_info("the producer (pid %d) did not stop within %d s: killing it",
	    (int)p->pid, GRACE_S);
	kill(-p->pid, SIGKILL);
	return G_SOURCE_REMOVE;
}

static void
producer_stop(Producer *p)
{
	if (p->stopping || p->pid == 0)
		return;
	p->stopping = TRUE;
	if (kill(-p->pid, SIGTERM) < 0)
		log_info("cannot stop the producer (pid %d): %s", (int)p->pid,
		    g_strerror(errno));
	p->kill_timer = g_timeout_add_seconds(GRACE_S, on_grace_over, p);
	/* Whoever joins from now on waits for the next producer's stream. */
	if (S.q == p->q)
		new_queue();
}

static gboolean
on_linger_over(gpointer data)
{
	S.linger_timer = 0;
	if (S.prod != NULL && fanq_count(S.q) == 0) {
		log_info("no consumer for %u s: stopping the producer (pid %d)",
		    linger_s, (int)S.prod->pid);
		producer_stop(S.prod);
	}
	return G_SOURCE_REMOVE;
}

/* A consumer's number, as its name ("consumer N") has it. */
static const char *
consumer_id(FanqConsumer *c)
{
	const char *name = fanq_consumer_name(c), *sp = strrchr(name, ' ');

	return sp != NULL ? sp + 1 : name;
}

static void
on_gone(FanqConsumer *c, const char *reason, gpointer data)
{
	Fanq *q = data;

	log_info("%s left: %s (%" PRIu64 " bytes, %u skips)",
	    fanq_consumer_name(c), reason != NULL ? reason : "end of stream",
	    fanq_consumer_bytes(c), fanq_consumer_skips(c));
	if (status_enabled()) {
		g_autofree char *bytes = g_strdup_printf("%" PRIu64, fanq_consumer_bytes(c));
		g_autofree char *skips = g_strdup_printf("%u", fanq_consumer_skips(c));

		status_event("consumer-left", "id", consumer_id(c), "reason",
		    reason != NULL ? reason : "end of stream", "bytes", bytes,
		    "skips", skips, NULL);
	}
	if (q != S.q) {
		maybe_free_queue(q);
		return;
	}
	if (fanq_count(q) > 0)
		return;
	if (S.producer == NULL) {
		if (S.stdin_done)
			quit();
		return;
	}
	if (S.prod == NULL || S.prod->stopping || S.linger_timer != 0)
		return;
	if (linger_s == 0) {
		log_info("no consumer left: stopping the producer (pid %d)",
		    (int)S.prod->pid);
		producer_stop(S.prod);
	} else
		S.linger_timer = g_timeout_add_seconds(linger_s, on_linger_over,
		    NULL);
}

static gboolean
on_eof_grace_over(gpointer data)
{
	Producer *p = data;

	p->eof_timer = 0;
	producer_finish(p, NULL);
	if (p->pid > 0 && !p->stopping) {
		log_info("the producer (pid %d) closed its output but still runs: stopping it",
		    (int)p->pid);
		producer_stop(p);
	}
	return G_SOURCE_REMOVE;
}

/* The producer's stream is over: its consumers get the rest, then EOF;
 * when it failed, the "failed" event with why just before (an event
 * packet, see ts.h), which pp-fanout attach turns into its exit status. */
static void
producer_finish(Producer *p, const char *failure)
{
	Fanq *q = p->q;
	uint8_t pkt[TS_PACKET_SIZE];

	if (q == NULL)
		return;
	p->q = NULL;
	if (S.q == q)
		new_queue();
	if (failure != NULL) {
		ts_event_packet(pkt, "failed", failure);
		fanq_finish_with(q, pkt, sizeof(pkt));
	} else
		fanq_finish(q);
	maybe_free_queue(q);
}

/* The producer closed its output. Its consumers learn how it ended when
 * it exits, which is usually at once: its exit status says whether the
 * stream failed. */
static void
producer_eof(Producer *p)
{
	if (p->out_watch)
		g_source_remove(p->out_watch);
	p->out_watch = 0;
	close(p->out);
	p->out = -1;
	/* Newcomers wait for the next producer's stream. */
	if (S.q == p->q)
		new_queue();
	if (p->stopping)
		producer_finish(p, NULL);
	/* Its stream is over even if it lives on: unless it exits now (the
	 * usual case), stop it, so that the next consumer gets a new one. */
	else if (p->pid > 0)
		p->eof_timer = g_timeout_add(EOF_GRACE_MS, on_eof_grace_over, p);
}

static gboolean
read_producer(Producer *p)
{
	int r = fanq_read_fd(p->q, p->out);

	if (r > 0) {
		p->got_data = TRUE;
		return TRUE;
	}
	if (r == 0)
		return FALSE;
	if (errno != 0)
		log_info("reading the producer: %s", g_strerror(errno));
	producer_eof(p);
	return FALSE;
}

static gboolean
on_producer_data(int fd, GIOCondition cond, gpointer data)
{
	Producer *p = data;

	read_producer(p);
	return p->out >= 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
on_producer_exit(GPid pid, int status, gpointer data)
{
	Producer *p = data;
	g_autofree char *how = describe_status(status);
	g_autofree char *failure = NULL;

	/* A producer we stopped did not fail, whatever its status. */
	if (!p->stopping)
		failure = lastline_reason(p->err, S.producer[0], status, TRUE);
	if (status_enabled()) {
		g_autofree char *spid = g_strdup_printf("%d", (int)pid);
		g_autofree char *code = g_strdup_printf("%d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));

		status_event("producer-exited", "pid", spid, "status", code,
		    "stopped", p->stopping ? "yes" : "no", "reason", failure, NULL);
	}
	if (p->stopping)
		log_info("the producer (pid %d) stopped: it %s", (int)pid, how);
	else
		log_info("the producer (pid %d) ended by itself: it %s; it starts again on the next join",
		    (int)pid, how);
	/* Whatever else of its process group is left goes with it. */
	kill(-pid, p->stopping ? SIGKILL : SIGTERM);
	g_spawn_close_pid(pid);
	if (p->kill_timer)
		g_source_remove(p->kill_timer);
	if (p->eof_timer)
		g_source_remove(p->eof_timer);
	p->pid = 0;
	/* What it wrote before it died still goes out; then EOF, even if
	 * something it left behind holds the pipe open. */
	if (p->out >= 0) {
		if (p->out_watch)
			g_source_remove(p->out_watch);
		p->out_watch = 0;
		while (p->out >= 0 && read_producer(p))
			;
		if (p->out >= 0)
			producer_eof(p);
	}
	if (failure != NULL && p->q != NULL)
		log_info("the producer failed: %s; telling its %u consumer(s)",
		    failure, fanq_count(p->q));
	producer_finish(p, failure);
	lastline_free(p->err);
	if (S.prod == p)
		S.prod = NULL;
	g_free(p);
	if (S.quitting) {
		quit();
		return;
	}
	if (fanq_count(S.q) > 0)
		producer_start();	/* they joined while it was stopping */
}

static void
producer_start(void)
{
	g_autoptr(GError) error = NULL;
	SpawnOpts o = { .in = -1, .out = -1, .err = -1, .flags = SPAWN_PGROUP };
	int pfd[2], efd[2], devnull;
	Producer *p;
	pid_t pid;

	if (!g_unix_open_pipe(pfd, FD_CLOEXEC, &error) ||
	    !g_unix_open_pipe(efd, FD_CLOEXEC, &error))
		err(EX_OSERR, "pipe");
	/* The terminal's input is not the producer's. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	o.in = devnull;
	o.out = pfd[1];
	/* Its stderr goes on to ours, its last line kept: why it failed. */
	o.err = efd[1];
	pid = spawn_child((const char *const *)S.producer, &o, &error);
	close(pfd[1]);
	close(efd[1]);
	if (devnull >= 0)
		close(devnull);
	if (pid < 0) {
		Fanq *q = S.q;
		uint8_t pkt[TS_PACKET_SIZE];
		g_autofree char *why = g_strdup_printf("cannot start %s: %s",
		    S.producer[0], error->message);

		log_info("cannot start the producer %s: %s", S.producer[0],
		    error->message);
		close(pfd[0]);
		close(efd[0]);
		new_queue();
		ts_event_packet(pkt, "failed", why);
		fanq_finish_with(q, pkt, sizeof(pkt));
		maybe_free_queue(q);
		return;
	}
	p = g_new0(Producer, 1);
	p->pid = pid;
	p->out = pfd[0];
	p->err = lastline_new(efd[0]);
	p->q = S.q;
	g_unix_set_fd_nonblocking(p->out, TRUE, NULL);
	p->out_watch = g_unix_fd_add(p->out, G_IO_IN | G_IO_HUP | G_IO_ERR,
	    on_producer_data, p);
	g_child_watch_add(pid, on_producer_exit, p);
	S.prod = p;
	log_info("started the producer %s (pid %d)", S.producer[0], (int)pid);
	if (status_enabled()) {
		g_autofree char *spid = g_strdup_printf("%d", (int)pid);

		status_event("producer-started", "pid", spid, NULL);
	}
}

static void
input_ended(void)
{
	log_info("end of the input stream: serving what is left, then exiting");
	S.stdin_done = TRUE;
	fanq_finish(S.q);
	if (fanq_count(S.q) == 0)
		quit();
}

static gboolean
on_stdin(int fd, GIOCondition cond, gpointer data)
{
	if (fanq_read_fd(S.q, fd) >= 0)
		return G_SOURCE_CONTINUE;
	if (errno != 0)
		log_info("reading stdin: %s", g_strerror(errno));
	input_ended();
	return G_SOURCE_REMOVE;
}

/* A recording is read as fast as the disk goes: handed on like that,
 * the stream would be over before a second viewer joins, and a viewer
 * through pp-tunnel would get it all into its player's buffer at once.
 * So each packet goes out when the stream's own clock (its PCR) says,
 * counted from the first packet, as the live encoder wrote it. */
static gboolean
on_file_due(gpointer data)
{
	for (;;) {
		int64_t now = g_get_monotonic_time();
		size_t start = S.file.off;

		while (S.file.off + TS_PACKET_SIZE <= S.file.len) {
			const uint8_t *p = S.file.buf + S.file.off;

			if (p[0] != TS_SYNC_BYTE) {
				/* Garbage goes on too: the queue resyncs. */
				S.file.off += 1 + ts_find_sync(p + 1,
				    S.file.len - S.file.off - 1);
				continue;
			}
			if (S.file.due < 0)
				S.file.due = ts_pacer_feed(&S.file.pacer, p, now);
			if (S.file.due > now + FILE_SLACK_US)
				break;
			S.file.due = -1;
			S.file.off += TS_PACKET_SIZE;
		}
		if (S.file.off > start)
			fanq_push(S.q, S.file.buf + start, S.file.off - start);
		if (S.file.due > now + FILE_SLACK_US) {
			S.file.timer = g_timeout_add_full(G_PRIORITY_HIGH,
			    (S.file.due - now + 999) / 1000, on_file_due, NULL,
			    NULL);
			return G_SOURCE_REMOVE;
		}

		/* Less than a packet left: read on. */
		ssize_t r;

		memmove(S.file.buf, S.file.buf + S.file.off,
		    S.file.len - S.file.off);
		S.file.len -= S.file.off;
		S.file.off = 0;
		r = read(STDIN_FILENO, S.file.buf + S.file.len,
		    sizeof(S.file.buf) - S.file.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			S.file.len += r;
			continue;
		}
		if (r < 0)
			log_info("reading stdin: %s", g_strerror(errno));
		if (S.file.len > 0)
			fanq_push(S.q, S.file.buf, S.file.len);
		S.file.timer = 0;
		input_ended();
		return G_SOURCE_REMOVE;
	}
}

static void
on_consumer(int c, gpointer data)
{
	g_autofree char *name = NULL;

	if (S.stdin_done) {
		close(c);	/* nothing more to give */
		return;
	}
	if (fanq_count(S.q) >= MAX_CONSUMERS) {
		close(c);
		log_info("a consumer over the limit of %d: closed", MAX_CONSUMERS);
		return;
	}
	/* A small socket buffer: what sits in it is out of the lag count,
	 * so a consumer on a slow path (a viewer through pp-tunnel) would
	 * be that much further behind before it is skipped forward. The
	 * kernel's default (about 200 kB) is half a second at 3 Mbit/s. */
	int sndbuf = 32 << 10;
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	name = g_strdup_printf("consumer %u", ++S.next_id);
	fanq_add(S.q, c, name, NULL, 0, on_gone, S.q);
	log_info("%s joined (%u attached)", name, fanq_count(S.q));
	if (status_enabled()) {
		g_autofree char *id = g_strdup_printf("%u", S.next_id);
		g_autofree char *n = g_strdup_printf("%u", fanq_count(S.q));

		status_event("consumer-joined", "id", id, "attached", n, NULL);
	}
	if (S.linger_timer) {
		g_source_remove(S.linger_timer);
		S.linger_timer = 0;
	}
	if (S.producer != NULL && S.prod == NULL)
		producer_start();
	else if (S.file.paced && !S.file.started) {
		S.file.started = TRUE;
		log_info("playing the recording at its own pace");
		S.file.timer = g_idle_add(on_file_due, NULL);
	} else
		kick();
}

/* Whether the input is flowing now: a producer that runs, or stdin being
 * read (a recording only once it plays). */
static gboolean
input_active(void)
{
	if (S.producer != NULL)
		return S.prod != NULL && S.prod->pid > 0 && !S.prod->stopping &&
		    S.prod->out >= 0;
	return !S.stdin_done && (!S.file.paced || S.file.started);
}

/* Once a second: an input that sends nothing, or bytes with no keyframe
 * (not MPEG-TS, or no H.264 keyframe marked), leaves consumers with
 * nothing; said once each, on stderr and as an event, and said again
 * only after it came right. */
static gboolean
input_check(gpointer data)
{
	gint64 now = g_get_monotonic_time();
	uint64_t bytes = fanq_bytes_in(S.q), keys = fanq_keyframes(S.q);
	const char *what = S.producer != NULL ? "the producer" : "the input";

	if (!input_active() || S.in.q != S.q) {
		S.in.q = input_active() ? S.q : NULL;
		S.in.bytes = bytes;
		S.in.keys = keys;
		S.in.bytes_at = S.in.keys_at = now;
		S.in.said_stall = S.in.said_nokey = FALSE;
		return G_SOURCE_CONTINUE;
	}
	if (bytes != S.in.bytes) {
		S.in.bytes = bytes;
		S.in.bytes_at = now;
		S.in.said_stall = FALSE;
	}
	if (keys != S.in.keys) {
		S.in.keys = keys;
		S.in.keys_at = now;
		S.in.said_nokey = FALSE;
	}
	if (!S.in.said_stall && now - S.in.bytes_at >= STALL_S * G_USEC_PER_SEC) {
		S.in.said_stall = TRUE;
		log_info("%s has sent nothing for %d s: its consumers are waiting",
		    what, STALL_S);
		status_event("input-stalled", "seconds", G_STRINGIFY(STALL_S), NULL);
	}
	if (!S.in.said_nokey && bytes > 0 &&
	    now - S.in.keys_at >= NO_KEYFRAME_S * G_USEC_PER_SEC) {
		S.in.said_nokey = TRUE;
		log_info("%s has sent no keyframe for %d s (%" PRIu64 " bytes, %" PRIu64 " whole packets): new consumers cannot start; is it MPEG-TS with H.264?",
		    what, NO_KEYFRAME_S, bytes, fanq_packets(S.q));
		status_event("input-no-keyframe", "seconds",
		    G_STRINGIFY(NO_KEYFRAME_S), NULL);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal(gpointer data)
{
	if (S.quitting) {
		if (S.prod != NULL && S.prod->pid > 0)
			kill(-S.prod->pid, SIGKILL);
		quit();
		return G_SOURCE_CONTINUE;
	}
	S.quitting = TRUE;
	log_debug("signal %d: stopping", GPOINTER_TO_INT(data));
	acceptor_free(S.acceptor);
	S.acceptor = NULL;
	if (S.bound_path != NULL)
		unlink(S.bound_path);
	if (S.linger_timer)
		g_source_remove(S.linger_timer);
	S.linger_timer = 0;
	if (S.prod != NULL && S.prod->pid > 0)
		producer_stop(S.prod);	/* its exit ends the loop */
	else
		quit();
	return G_SOURCE_CONTINUE;
}

/* Is a socket listening at this absolute path? Only the kernel's list
 * can tell without connecting, and a test connection would count as a
 * join to the fanout there (and start its producer). -1: cannot tell. */
static int
listening_at(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[4096];
	int found = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long flags;
		char sockpath[sizeof(line)];

		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %4095s", &flags,
		    sockpath) != 2)
			continue;
		if ((flags & 0x10000) && strcmp(sockpath, path) == 0) {
			found = 1;	/* __SO_ACCEPTCON: it listens */
			break;
		}
	}
	fclose(f);
	return found;
}

static char *
absolute_path(const char *path)
{
	g_autofree char *dir = NULL, *base = NULL, *real = NULL;

	if (path[0] == '/')
		return g_strdup(path);
	dir = g_path_get_dirname(path);
	base = g_path_get_basename(path);
	real = realpath(dir, NULL);
	if (real == NULL)
		err(EX_USAGE, "%s", dir);
	return g_build_filename(real, base, NULL);
}

static int
listen_socket(const char *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	g_autofree char *path = absolute_path(arg);
	struct stat st;
	mode_t old;
	int fd, live;

	/* Bound by its absolute path, so /proc/net/unix names it so. */
	if (strlen(path) >= sizeof(sa.sun_path))
		errx(EX_USAGE, "%s: socket path too long (at most %zu bytes); choose a shorter --socket",
		    path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			errx(EX_USAGE, "%s exists and is not a socket; remove it or choose another --socket",
			    arg);
		/* /proc/net/unix lists only this network namespace's
		 * sockets: when it does not name a listener, a connection
		 * decides (refused: stale). */
		live = listening_at(path);
		if (live <= 0) {
			int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			live = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
			close(probe);
		}
		if (live)
			errx(EX_TEMPFAIL, "%s: another pp-fanout is serving on this socket; stop it first or choose another --socket",
			    arg);
		if (unlink(path) < 0)
			err(EX_NOPERM, "cannot remove the stale socket %s", arg);
		log_info("replaced the stale socket %s", arg);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		err(EX_OSERR, "socket");
	old = umask(0177);	/* 0600: the stream is the user's screen */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EADDRINUSE)
			errx(EX_TEMPFAIL, "%s: another pp-fanout is serving on this socket; stop it first or choose another --socket",
			    arg);
		err(EX_CANTCREAT, "cannot create the socket %s", arg);
	}
	umask(old);
	if (listen(fd, 64) < 0)
		err(EX_OSERR, "listen");
	S.bound_path = g_steal_pointer(&path);
	return fd;
}

static int
serve(void)
{
	S.limits.max_lag_ms = max_lag_ms;
	S.limits.drop_after_ms = drop_after_s * 1000;
	S.listen_fd = listen_socket(socket_path);
	S.loop = g_main_loop_new(NULL, FALSE);
	S.q = queue_new();
	S.old = g_ptr_array_new();
	g_timeout_add_seconds(1, input_check, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_unix_signal_add(SIGTERM, on_quit_signal, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, on_quit_signal, GINT_TO_POINTER(SIGINT));
	S.acceptor = acceptor_new(S.listen_fd, on_consumer, NULL);
	if (S.producer == NULL) {
		struct stat st;

		if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
			S.file.paced = TRUE;
			ts_pacer_init(&S.file.pacer);
		} else {
			g_unix_set_fd_nonblocking(STDIN_FILENO, TRUE, NULL);
			g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR,
			    on_stdin, NULL);
		}
	}
	log_info("serving on %s%s%s", socket_path,
	    S.producer != NULL ? ", producer " :
	    S.file.paced ? ", a recording from stdin, from the first join on at its own pace" :
	    ", stream from stdin",
	    S.producer != NULL ? S.producer[0] : "");
	status_event("ready", "socket", socket_path, NULL);
	g_main_loop_run(S.loop);

	acceptor_free(S.acceptor);
	close(S.listen_fd);
	unlink(S.bound_path);
	if (S.prod != NULL && S.prod->pid > 0)
		kill(-S.prod->pid, SIGKILL);
	fanq_free(S.q);
	return 0;
}

static void
on_term(int sig)
{
	_exit(0);
}

/* Writes all of buf: FALSE when the reader is gone. */
static gboolean
write_all(const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return FALSE;
		buf += w;
		len -= w;
	}
	return TRUE;
}

static int
attach(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t buf[TS_PACKET_SIZE + (1 << 16)];
	size_t have = 0;		/* bytes in buf, a packet cut at most */
	gboolean framed = TRUE;		/* whole packets from the start */
	char event[32], failure[TS_EVENT_TEXT_MAX + 1] = "";
	gboolean failed = FALSE;
	int fd;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		errx(EX_USAGE, "%s: socket path too long", socket_path);
	strcpy(sa.sun_path, socket_path);
	if (isatty(STDOUT_FILENO))
		errx(EX_USAGE, "stdout is a terminal: redirect the stream to a file or a pipe");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(EX_OSERR, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			errx(EX_UNAVAILABLE, "%s: no pp-fanout is serving on this socket; start one with pp-fanout serve",
			    socket_path);
		err(EX_UNAVAILABLE, "%s", socket_path);
	}
	signal(SIGPIPE, SIG_IGN);
	/* At once: pp-fanout starts a consumer of layers on the top one
	 * unless it asks within 200 ms (fanq.h). */
	if (layer >= 0) {
		char req[32];
		int n = snprintf(req, sizeof(req), "layer %d\n", layer);

		if (write(fd, req, n) != n)
			err(EX_IOERR, "asking %s for layer %d", socket_path, layer);
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	/* The stream comes in whole packets; event packets (ts.h) are
	 * taken out, and the "failed" one is how the stream ended. */
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		size_t off, run;

		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err(EX_IOERR, "reading %s", socket_path);
		}
		have += r;
		if (!framed) {
			if (!write_all(buf, have))
				return 0;	/* whoever read us is gone */
			have = 0;
			continue;
		}
		for (off = run = 0; off + TS_PACKET_SIZE <= have;
		    off += TS_PACKET_SIZE) {
			char text[TS_EVENT_TEXT_MAX + 1];

			if (buf[off] != TS_SYNC_BYTE) {
				framed = FALSE;	/* not ours to parse */
				break;
			}
			if (!ts_event_parse(buf + off, event, sizeof(event),
			    text, sizeof(text)))
				continue;
			if (!write_all(buf + run, off - run))
				return 0;
			run = off + TS_PACKET_SIZE;
			if (strcmp(event, "failed") == 0) {
				failed = TRUE;
				g_strlcpy(failure, text, sizeof(failure));
			}
		}
		if (!framed)
			off = have;
		if (!write_all(buf + run, off - run))
			return 0;
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (have > 0 && !write_all(buf, have))
		return 0;
	if (failed)
		errx(EX_UNAVAILABLE, "the producer failed: %s", failure);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "linger", required_argument, NULL, 'l' },
		{ "max-lag", required_argument, NULL, 'm' },
		{ "drop-after", required_argument, NULL, 'd' },
		{ "no-keyframe-signal", no_argument, &no_keyframe_signal, 1 },
		{ "status-fd", required_argument, NULL, 'S' },
		{ "layer", required_argument, NULL, 'L' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int ch;

	log_init();
	opt_early(argc, argv, usage_text);
	if (argc < 2)
		opt_usage(usage_text, EX_USAGE);
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "attach") != 0)
		opt_usage(usage_text, EX_USAGE);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+s:l:m:d:S:L:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_path = optarg;
			break;
		case 'l':
			linger_s = opt_number("--linger", optarg, 0, 86400);
			break;
		case 'm':
			max_lag_ms = opt_number("--max-lag", optarg, 40, 60000);
			break;
		case 'd':
			drop_after_s = opt_number("--drop-after", optarg, 1, 3600);
			break;
		case 'S':
			status_open(optarg);
			break;
		case 'L':
			layer = opt_number("--layer", optarg, 0, TS_MAX_LAYERS - 1);
			break;
		case 0:
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, "+s:l:m:d:S:L:h", longopts);
		}
	}
	argc -= optind;
	argv += optind;

	if (socket_path == NULL)
		errx(EX_USAGE, "--socket PATH is required");
	if (strcmp(cmd, "attach") == 0) {
		if (argc > 0)
			errx(EX_USAGE, "attach takes no producer");

		return attach();
	}
	if (layer >= 0)
		errx(EX_USAGE, "--layer is for attach: each consumer asks for its own");
	if (argc > 0)
		S.producer = argv;
	return serve();
}
