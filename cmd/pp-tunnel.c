/*
 * pp-tunnel: an encrypted byte pipe between two machines, addressed by a
 * ticket. "listen" runs a command per authenticated viewer with the stream
 * on its stdin and stdout; "connect" joins a host's stream to stdio.
 * QUIC (ngtcp2, TLS 1.3, BBR) over UDP on the host's direct addresses,
 * or over an ICE link (libnice) set up through an MQTT rendezvous with
 * sealed signaling messages, through NATs and TURN relays.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ifaddrs.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "ice.h"
#include "keys.h"
#include "lastline.h"
#include "log.h"
#include "opt.h"
#include "quic.h"
#include "rendezvous.h"
#include "signaling.h"
#include "spawn.h"
#include "ticket.h"
#include "tlsrelay.h"
#include "udp.h"

static guint max_viewers;	/* --max-viewers: 0 means no limit */
static uint16_t port;		/* --port: 0 means any free port */
static const char *ticket_file;	/* --ticket-file */
static guint timeout_s = 10;	/* --timeout */
static guint idle_ms = 30000;	/* PP_TUNNEL_IDLE_TIMEOUT, in seconds */
static const char *opt_rendezvous;	/* --rendezvous */
static const char *rendezvous_ca;	/* --rendezvous-ca */
static const char *opt_stun;	/* --stun */
static const char *opt_turn;	/* --turn */
static const char *turn_ca;	/* --turn-ca, else config.toml's turn_ca */

/* Used when neither the command line nor config.toml names any. The
 * host takes the first broker that answers; the ticket names it unless
 * it is the first. */
static const char *const default_rendezvous[] = {
	"mqtts://broker.hivemq.com:8883",
	"mqtts://broker.emqx.io:8883",
	"mqtts://test.mosquitto.org:8886",
	NULL
};
static const char *const default_stun[] = {
	"stun.l.google.com:19302",
	"stun.cloudflare.com:3478",
	NULL
};

/* ICE's datagrams start at QUIC's 1200 bytes, which leave room for a
 * TURN relay's framing (ChannelData, or a Send indication of 36 bytes,
 * and 2 bytes per frame over TCP) on a 1280-byte IPv6 path, and grow by
 * path MTU discovery up to what a 1500-byte IPv6 packet holds. */
#define ICE_UDP_PAYLOAD 1452
#define RENDEZVOUS_TIMEOUT_S 10

static GMainLoop *loop;
static uint8_t proof_key[KEYS_LEN];

static const char usage_text[] =
    "usage: pp-tunnel listen [--max-viewers N] [--port P] [--ticket-file F]\n"
    "                        [--rendezvous URL|none] [--rendezvous-ca FILE]\n"
    "                        [--stun HOST[:PORT]|none] [--turn URL|none]\n"
    "                        [--turn-ca FILE] -- CMD [ARG ...]\n"
    "       pp-tunnel connect TICKET [--timeout S] [--rendezvous URL]\n"
    "                        [--rendezvous-ca FILE] [--stun HOST[:PORT]|none]\n"
    "                        [--turn URL|none] [--turn-ca FILE]\n"
    "       pp-tunnel check TICKET\n"
    "       pp-tunnel --help | --version\n";

static const char *
family_name(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? "IPv6" : "IPv4";
}

static char *
size_string(uint64_t n)
{
	/* Not g_format_size: its no-break space defeats grep. */
	if (n >= 1000000)
		return g_strdup_printf("%.1f MB", n / 1e6);
	if (n >= 1000)
		return g_strdup_printf("%.1f kB", n / 1e3);
	return g_strdup_printf("%u bytes", (unsigned)n);
}

/* --- network settings ---------------------------------------------------- */

static Config *config;
static IceStun stun;
static IceTurn turn;
static SignalingCtx sig;
static char topic[64];

/* A setting: the option, else the [network] key of config.toml (a string
 * or a list), else the defaults. NULL-terminated list, not to be freed. */
static const char *const *
setting(const char *opt, const char *key, const char *const *defaults)
{
	static const char *one[2];
	const char *const *v;

	if (opt != NULL) {
		one[0] = opt;
		one[1] = NULL;
		return one;
	}
	if ((v = config_get(config, "network", key)) != NULL)
		return v;
	return defaults;
}

static void
network_settings(void)
{
	static const char *const keys[] = { "rendezvous", "stun", "turn",
		"turn_ca", NULL };
	g_autofree char *path = config_path();
	g_autoptr(GError) error = NULL;

	if ((config = config_load(path, &error)) == NULL ||
	    !config_check_keys(config, "network", keys, &error))
		errx(EX_USAGE, "%s; fix or remove that line", error->message);
}

/* STUN and TURN, resolved: only when ICE is going to be used. */
static void
ice_servers(void)
{
	static const char *const none[] = { NULL };
	g_autoptr(GError) error = NULL;
	const char *const *v;

	/* The first STUN server that resolves. */
	for (v = setting(opt_stun, "stun", default_stun); *v != NULL; v++) {
		if (strcmp(*v, "none") == 0)
			break;
		if (ice_parse_stun(*v, &stun, &error))
			break;
		if (opt_stun != NULL || error->code == G_IO_ERROR_INVALID_ARGUMENT)
			errx(EX_USAGE, "%s", error->message);
		warnx("%s; trying the next", error->message);
		g_clear_error(&error);
	}
	v = setting(opt_turn, "turn", none);
	if (*v != NULL && strcmp(*v, "none") != 0 &&
	    !ice_parse_turn(*v, &turn, &error))
		errx(error->code == G_IO_ERROR_INVALID_ARGUMENT ? EX_USAGE :
		    EX_UNAVAILABLE, "%s", error->message);
	/* CAs for turns://, ours or the host's: checked now rather than at
	 * the first relay. */
	if (turn_ca == NULL)
		turn_ca = setting(NULL, "turn_ca", none)[0];
	if (turn_ca != NULL && !tlsrelay_check_ca(turn_ca, &error))
		errx(EX_USAGE, "TURN CA file %s", error->message);
	turn.ca_file = g_strdup(turn_ca);
}

/* New viewers' offers, once authenticated: a token bucket of 10 a second,
 * 20 at once. Not every message on the topic: anyone can publish there,
 * and a limit before authentication would let junk crowd out the offers
 * and candidates of a viewer with the ticket. Junk costs little anyway:
 * signaling_open drops most of it on its size, version, clock and replay
 * checks, and the rest after one decryption of at most 2 kB. */
static gboolean
offer_rate_ok(void)
{
	static double tokens = 20;
	static gint64 last;
	gint64 now = g_get_monotonic_time();

	tokens = MIN(20, tokens + (now - last) / 1e6 * 10);
	last = now;
	if (tokens < 1)
		return FALSE;
	tokens--;
	return TRUE;
}

/* Messages on the topic that did not open, counted and logged at most
 * every 10 s rather than one line each. */
static guint64 n_ignored, n_ignored_total;
static guint ignored_timer;

static gboolean
on_ignored_timer(gpointer ud)
{
	if (n_ignored == 0) {
		ignored_timer = 0;
		return G_SOURCE_REMOVE;
	}
	log_info("rendezvous: %" G_GUINT64_FORMAT " messages on the topic ignored in the last 10 s (%" G_GUINT64_FORMAT " in all): not sealed with this ticket's secret, or replayed",
	    n_ignored, n_ignored_total);
	n_ignored = 0;
	return G_SOURCE_CONTINUE;
}

static void
count_ignored(void)
{
	n_ignored++;
	n_ignored_total++;
	if (ignored_timer == 0)
		ignored_timer = g_timeout_add_seconds(10, on_ignored_timer, NULL);
}

static void
publish_msg(Rendezvous *r, const char *to, const SignalingMsg *m)
{
	g_autoptr(GBytes) env = signaling_seal_msg(&sig, m);

	if (env == NULL) {
		log_debug("a signaling message did not fit");
		return;
	}
	rendezvous_publish(r, to, g_bytes_get_data(env, NULL),
	    g_bytes_get_size(env));
}

static void
fill_sockaddr(struct sockaddr_storage *ss, socklen_t *len, uint8_t last)
{
	/* ICE paths change under QUIC; ngtcp2 sees one fixed pretend path. */
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(last);
	sin->sin_addr.s_addr = htonl(0x7f000100 | last);
	*len = sizeof(*sin);
}

/* --- listen ------------------------------------------------------------- */

typedef struct {
	QuicConn *qc;
	int fd;
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
	char *key, *name;
	gboolean admitted, arrived, gone, refused_full;
	gint64 t0;
	UdpBatch out;
	/* On an ICE path: */
	IceLink *ice;
	char session[SIGNALING_SESSION_LEN + 1];
	char reply[129];
	uint8_t peer_fp[32];
	guint ice_timer;
	gboolean ice_removing;
	char *path;
	pid_t pid;		/* its CMD, until that exits */
} Viewer;

/* How long the end of a viewer's CMD's output waits for the CMD's exit
 * status, which says whether the viewer gets a clean end or the failure
 * (QUIC_APP_HOST_FAILED); and how long a failure waits for the viewer to
 * acknowledge the stream before it, so the viewer keeps what was sent. */
#define CMD_EXIT_WAIT_MS	2000
#define FAILURE_SEND_MS		5000

static GHashTable *viewers;	/* "remote|local" or "ice|session" -> Viewer */
static GHashTable *sessions;	/* session -> Viewer (ICE ones) */
static GHashTable *children;	/* pid -> its stderr (LastLine), the CMDs running */
static char **cmd_argv;
static guint n_admitted;

static void
viewer_send(void *ctx, const uint8_t *pkt, size_t len)
{
	Viewer *v = ctx;

	if (v->ice != NULL)
		ice_link_send(v->ice, pkt, len);
	else
		udp_batch_add(&v->out, pkt, len);
}

static void
viewer_flush(void *ctx)
{
	Viewer *v = ctx;

	if (v->ice == NULL)
		udp_batch_flush(&v->out);
}

static void
viewer_free(gpointer p)
{
	Viewer *v = p;

	quic_conn_free(v->qc);
	if (v->ice_timer != 0)
		g_source_remove(v->ice_timer);
	if (v->ice != NULL && sessions != NULL &&
	    g_hash_table_lookup(sessions, v->session) == v)
		g_hash_table_remove(sessions, v->session);
	ice_link_free(v->ice);
	g_free(v->path);
	g_free(v->name);
	g_free(v->key);
	g_free(v);
}

/* Once the last viewer is gone, the memory their buffers took goes back
 * to the system: glibc keeps freed heap that lies below live blocks, so
 * the host would otherwise stay at its busiest size (after 200 viewers,
 * a dozen at a time: 17 MB before, 35 MB ever after; see
 * tests/soak-viewers.sh). */
static void
viewers_trim(void)
{
#ifdef __GLIBC__
	if (g_hash_table_size(viewers) == 0)
		malloc_trim(0);
#endif
}

static gboolean
viewer_remove(gpointer p)
{
	Viewer *v = p;

	g_hash_table_remove(viewers, v->key);
	viewers_trim();
	return G_SOURCE_REMOVE;
}

static void
on_handshake(QuicConn *qc, void *ud)
{
	Viewer *v = ud;

	/* On an ICE path the TLS handshake only completes with the
	 * certificate the sealed offer named (QuicConfig.pin_peer). */
	if (max_viewers > 0 && n_admitted >= max_viewers) {
		char reason[32];

		/* The viewer prints this as "host is full (N/N viewers)". */
		snprintf(reason, sizeof(reason), "%u/%u", n_admitted, max_viewers);
		log_info("viewer %s refused: host is full (%s viewers)",
		    v->name, reason);
		v->refused_full = TRUE;
		quic_conn_close(qc, QUIC_APP_FULL, reason);
		return;
	}
	v->admitted = TRUE;
	n_admitted++;
}

static Viewer *
viewer_of_cmd(pid_t pid)
{
	GHashTableIter it;
	gpointer k, val;

	g_hash_table_iter_init(&it, viewers);
	while (g_hash_table_iter_next(&it, &k, &val)) {
		Viewer *v = val;

		if (v->pid == pid)
			return v;
	}
	return NULL;
}

/* A viewer's CMD exited: a clean end lets the end of its output go to
 * the viewer; a failure closes the viewer's connection with
 * QUIC_APP_HOST_FAILED and why (the CMD's last line on stderr), once the
 * viewer has the stream the CMD gave. */
static void
on_child(GPid pid, gint status, gpointer ud)
{
	LastLine *err = g_hash_table_lookup(children, GINT_TO_POINTER(pid));
	g_autofree char *why = lastline_reason(err, cmd_argv[0], status, FALSE);
	g_autofree char *how = lastline_reason(err, cmd_argv[0], status, TRUE);
	Viewer *v = viewer_of_cmd(pid);

	if (v != NULL) {
		v->pid = 0;
		if (v->gone || v->qc == NULL)
			;
		else if (why == NULL)
			quic_conn_end_input(v->qc);
		else {
			log_info("viewer %s: the command failed: %s", v->name, how);
			quic_conn_close_when_sent(v->qc, QUIC_APP_HOST_FAILED,
			    why, FAILURE_SEND_MS);
		}
	} else if (how != NULL)
		log_debug("command %d: %s", pid, how);
	g_hash_table_remove(children, GINT_TO_POINTER(pid));
	g_spawn_close_pid(pid);
}

static void
on_viewer_ready(QuicConn *qc, void *ud)
{
	Viewer *v = ud;
	g_autoptr(GError) error = NULL;
	int to_cmd[2], from_cmd[2], err_cmd[2];
	SpawnOpts o = { .in = -1, .out = -1, .err = -1, .flags = SPAWN_PGROUP };
	pid_t pid;

	if (!g_unix_open_pipe(to_cmd, FD_CLOEXEC, &error) ||
	    !g_unix_open_pipe(from_cmd, FD_CLOEXEC, &error) ||
	    !g_unix_open_pipe(err_cmd, FD_CLOEXEC, &error)) {
		log_info("viewer %s: %s", v->name, error->message);
		quic_conn_close(qc, QUIC_APP_INTERNAL, "cannot start the command");
		return;
	}
	o.in = to_cmd[0];
	o.out = from_cmd[1];
	/* Passed on to ours, its last line kept: why it failed. */
	o.err = err_cmd[1];
	pid = spawn_child((const char *const *)cmd_argv, &o, &error);
	close(to_cmd[0]);
	close(from_cmd[1]);
	close(err_cmd[1]);
	if (pid == -1) {
		log_info("cannot run %s: %s", cmd_argv[0], error->message);
		close(to_cmd[1]);
		close(from_cmd[0]);
		close(err_cmd[0]);
		quic_conn_close(qc, QUIC_APP_INTERNAL, "cannot start the command");
		return;
	}
	g_hash_table_insert(children, GINT_TO_POINTER(pid),
	    lastline_new(err_cmd[0]));
	v->pid = pid;
	g_child_watch_add(pid, on_child, NULL);
	v->arrived = TRUE;
	v->t0 = g_get_monotonic_time();
	if (log_verbose()) {
		uint8_t fp[32];
		g_autofree char *hex = NULL;

		if (quic_conn_peer_fingerprint(qc, fp)) {
			hex = g_strnfill(64, '0');
			for (int i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", fp[i]);
			log_debug("viewer %s certificate sha256 %s", v->name, hex);
		} else
			log_debug("viewer %s sent no certificate", v->name);
	}
	if (v->ice != NULL) {
		int rt;

		g_free(v->path);
		ice_link_path(v->ice, &rt, &v->path);
		log_info("viewer %s arrived (path %s, RTT %.1f ms)", v->name,
		    v->path, quic_conn_rtt_ms(qc));
	} else
		log_info("viewer %s arrived (%s, RTT %.1f ms)", v->name,
		    family_name((struct sockaddr *)&v->remote), quic_conn_rtt_ms(qc));
	quic_conn_attach(qc, from_cmd[0], to_cmd[1]);
}

static void
on_viewer_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	Viewer *v = ud;

	if (v->admitted)
		n_admitted--;
	v->admitted = FALSE;
	v->gone = TRUE;
	/* Kept a second, so that a refused viewer's late packets get the
	 * close again. */
	g_timeout_add(1000, viewer_remove, v);
	if (v->arrived) {
		uint64_t sent, received;
		g_autofree char *s = NULL, *r = NULL;
		double secs = (g_get_monotonic_time() - v->t0) / 1e6;

		quic_conn_counts(qc, &sent, &received);
		s = size_string(sent);
		r = size_string(received);
		switch (end->kind) {
		case QUIC_END_IDLE:
			log_info("viewer %s vanished: no packet for %u s (after %.1f s, sent %s, received %s)",
			    v->name, idle_ms / 1000, secs, s, r);
			break;
		case QUIC_END_ERROR:
			log_info("viewer %s failed: %s (after %.1f s, sent %s, received %s)",
			    v->name, end->reason, secs, s, r);
			break;
		default:
			log_info("viewer %s left after %.1f s (sent %s, received %s, RTT %.1f ms)",
			    v->name, secs, s, r, quic_conn_rtt_ms(qc));
			break;
		}
		return;
	}
	if (end->kind == QUIC_END_PROOF)
		log_info("viewer %s refused: it did not prove the ticket's secret",
		    v->name);
	else if (end->kind == QUIC_END_CERT)
		log_info("viewer %s refused: its certificate is not the one its offer named",
		    v->name);
	else if (!v->refused_full)
		log_debug("connection from %s ended before it was set up: %s",
		    v->name, end->reason);
}

/* The address a listening socket is bound to. */
typedef struct {
	struct sockaddr_storage addr;
	socklen_t addr_len;
} ListenSocket;

/* The hex of both addresses' family, port and IP: a key for the direct
 * viewers' table that costs no allocation per datagram. */
#define ADDR_KEY_LEN (2 * 2 * (2 + 2 + 16) + 1)
static void
addr_key(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
    char key[ADDR_KEY_LEN])
{
	uint8_t raw[2 * (2 + 2 + 16)] = { 0 };
	const struct sockaddr_storage *ss[] = { a, b };

	for (int i = 0; i < 2; i++) {
		uint8_t *r = raw + i * 20;

		memcpy(r, &ss[i]->ss_family, 2);
		if (ss[i]->ss_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)ss[i];

			memcpy(r + 2, &s->sin_port, 2);
			memcpy(r + 4, &s->sin_addr, 4);
		} else {
			const struct sockaddr_in6 *s = (const void *)ss[i];

			memcpy(r + 2, &s->sin6_port, 2);
			memcpy(r + 4, &s->sin6_addr, 16);
		}
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		key[2 * i] = "0123456789abcdef"[raw[i] >> 4];
		key[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
	}
	key[ADDR_KEY_LEN - 1] = '\0';
}

static gboolean
on_listen_socket(int fd, GIOCondition cond, gpointer ud)
{
	const ListenSocket *ls = ud;
	uint8_t buf[65536];
	static const QuicEvents ev = {
		.handshake_done = on_handshake,
		.ready = on_viewer_ready,
		.ended = on_viewer_ended,
	};

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from, local = ls->addr;
		socklen_t from_len, local_len = ls->addr_len;
		size_t seg;
		ssize_t n = udp_recv(fd, buf, sizeof(buf), &seg, &from,
		    &from_len, &local, &local_len);
		char key[ADDR_KEY_LEN];
		g_autoptr(GError) error = NULL;
		Viewer *v;
		ssize_t off;

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("receiving: %s", g_strerror(errno));
			if (errno == EAGAIN)
				break;
			continue;
		}
		addr_key(&from, &local, key);
		if ((v = g_hash_table_lookup(viewers, key)) != NULL) {
			/* GRO may have joined several datagrams. */
			for (off = 0; off < n; off += seg)
				quic_conn_recv(v->qc, buf + off, MIN((ssize_t)seg, n - off));
			continue;
		}
		/* Bound the half-open connections a flood could make. */
		if (g_hash_table_size(viewers) >= 256)
			continue;
		v = g_new0(Viewer, 1);
		v->fd = fd;
		v->local = local;
		v->local_len = local_len;
		v->remote = from;
		v->remote_len = from_len;
		v->name = udp_addr_string((struct sockaddr *)&from);
		v->key = g_strdup(key);
		v->out.fd = fd;
		v->out.to = (struct sockaddr *)&v->remote;
		v->out.to_len = v->remote_len;
		v->out.from = (struct sockaddr *)&v->local;
		QuicConfig cfg = {
			.server = TRUE,
			.local = (struct sockaddr *)&v->local,
			.local_len = v->local_len,
			.remote = (struct sockaddr *)&v->remote,
			.remote_len = v->remote_len,
			.io = { viewer_send, viewer_flush, v },
			.max_udp_payload = udp_max_payload(
			    (struct sockaddr *)&v->remote, v->remote_len),
			.idle_timeout_ms = idle_ms,
			.hold_fin_ms = CMD_EXIT_WAIT_MS,
			.ev = ev,
			.ud = v,
		};
		memcpy(cfg.proof_key, proof_key, KEYS_LEN);
		g_hash_table_insert(viewers, v->key, v);
		v->qc = quic_conn_new_server(&cfg, buf, MIN((ssize_t)seg, n),
		    &error);
		if (v->qc == NULL) {
			log_debug("ignoring a datagram from %s: %s", v->name,
			    error->message);
			g_hash_table_remove(viewers, v->key);
			continue;
		}
		for (off = seg; off < n; off += seg)
			quic_conn_recv(v->qc, buf + off, MIN((ssize_t)seg, n - off));
	}
	return G_SOURCE_CONTINUE;
}

/* --- listen: viewers through the rendezvous and ICE ---------------------- */

static Rendezvous *host_rv;
static guint n_pending;		/* ICE viewers without QUIC yet */

#define MAX_PENDING 32
#define ICE_SETUP_S 30

static gboolean
ice_viewer_remove(gpointer p)
{
	Viewer *v = p;

	v->ice_timer = 0;
	if (v->qc == NULL && n_pending > 0)
		n_pending--;
	g_hash_table_remove(viewers, v->key);
	viewers_trim();
	return G_SOURCE_REMOVE;
}

static gboolean
on_ice_setup_timeout(gpointer p)
{
	Viewer *v = p;

	v->ice_timer = 0;
	if (v->qc != NULL)
		return G_SOURCE_REMOVE;
	{
		g_autofree char *sum = ice_link_summary(v->ice);
		const char *why = ice_link_relay_error(v->ice);

		log_info("viewer %s: no path within %u s (%s)%s%s", v->name,
		    ICE_SETUP_S, sum, why ? "; no relay: " : "", why ? why : "");
	}
	v->ice_timer = g_idle_add(ice_viewer_remove, v);
	return G_SOURCE_REMOVE;
}

static void
host_ice_candidate(IceLink *l, const char *sdp, void *ud)
{
	Viewer *v = ud;
	SignalingMsg m = { .type = SIGNALING_CANDIDATE };

	strcpy(m.session, v->session);
	g_strlcpy(m.text, sdp, sizeof(m.text));
	publish_msg(host_rv, v->reply, &m);
}

static void
host_ice_gathered(IceLink *l, void *ud)
{
	Viewer *v = ud;
	SignalingMsg m = { .type = SIGNALING_DONE };

	strcpy(m.session, v->session);
	publish_msg(host_rv, v->reply, &m);
}

static void
host_ice_failed(IceLink *l, void *ud)
{
	Viewer *v = ud;
	g_autofree char *sum = ice_link_summary(l);
	const char *why;

	if (v->qc != NULL)
		return;
	why = ice_link_relay_error(l);
	log_info("viewer %s: no path (%s)%s%s", v->name, sum,
	    why ? "; no relay: " : "", why ? why : "");
	if (v->ice_timer != 0)
		g_source_remove(v->ice_timer);
	/* Not from inside libnice's signal: later. */
	v->ice_timer = g_idle_add(ice_viewer_remove, v);
}

static void
host_ice_recv(IceLink *l, const uint8_t *pkt, size_t len, void *ud)
{
	static const QuicEvents ev = {
		.handshake_done = on_handshake,
		.ready = on_viewer_ready,
		.ended = on_viewer_ended,
	};
	Viewer *v = ud;
	g_autoptr(GError) error = NULL;

	if (v->gone)
		return;
	if (v->qc != NULL) {
		quic_conn_recv(v->qc, pkt, len);
		return;
	}
	QuicConfig cfg = {
		.server = TRUE,
		.local = (struct sockaddr *)&v->local,
		.local_len = v->local_len,
		.remote = (struct sockaddr *)&v->remote,
		.remote_len = v->remote_len,
		.io = { viewer_send, viewer_flush, v },
		.max_udp_payload = ICE_UDP_PAYLOAD,
		.probe_mtu = TRUE,
		.idle_timeout_ms = idle_ms,
		.hold_fin_ms = CMD_EXIT_WAIT_MS,
		.pin_peer = TRUE,
		.ev = ev,
		.ud = v,
	};
	memcpy(cfg.proof_key, proof_key, KEYS_LEN);
	/* Whoever relayed the packets cannot have swapped the certificate. */
	memcpy(cfg.peer_fp, v->peer_fp, 32);
	v->qc = quic_conn_new_server(&cfg, pkt, len, &error);
	if (v->qc == NULL) {
		log_debug("viewer %s: ignoring a datagram: %s", v->name,
		    error->message);
		return;
	}
	if (n_pending > 0)
		n_pending--;
	if (v->ice_timer != 0)
		g_source_remove(v->ice_timer);
	v->ice_timer = 0;
}

static void
host_offer(const SignalingMsg *m)
{
	static const IceEvents iev = {
		.candidate = host_ice_candidate,
		.gathered = host_ice_gathered,
		.failed = host_ice_failed,
		.recv = host_ice_recv,
	};
	g_autoptr(GError) error = NULL;
	SignalingMsg a = { .type = SIGNALING_ANSWER };
	const char *u, *p;
	Viewer *v;

	if (g_hash_table_contains(sessions, m->session))
		return;		/* sent again while the answer travelled */
	if (max_viewers > 0 && n_admitted >= max_viewers) {
		SignalingMsg f = { .type = SIGNALING_FULL };

		strcpy(f.session, m->session);
		snprintf(f.text, sizeof(f.text), "%u/%u", n_admitted, max_viewers);
		log_info("viewer ice-%.8s refused: host is full (%s viewers)",
		    m->session, f.text);
		publish_msg(host_rv, m->reply, &f);
		return;
	}
	if (n_pending >= MAX_PENDING) {
		log_debug("offer dropped: %u viewers setting up already", n_pending);
		return;
	}
	if (!offer_rate_ok()) {
		log_debug("offer dropped: more than 10 new viewers a second");
		return;
	}
	v = g_new0(Viewer, 1);
	v->fd = -1;
	strcpy(v->session, m->session);
	strcpy(v->reply, m->reply);
	memcpy(v->peer_fp, m->fp, 32);
	v->name = g_strdup_printf("ice-%.8s", m->session);
	v->key = g_strconcat("ice|", m->session, NULL);
	fill_sockaddr(&v->local, &v->local_len, 1);
	fill_sockaddr(&v->remote, &v->remote_len, 2);
	v->ice = ice_link_new(FALSE, &stun, &turn, &iev, v);
	g_hash_table_insert(viewers, v->key, v);
	g_hash_table_insert(sessions, v->session, v);
	n_pending++;
	v->ice_timer = g_timeout_add_seconds(ICE_SETUP_S, on_ice_setup_timeout, v);
	log_debug("viewer %s: offer through the rendezvous", v->name);

	/* The answer first, so that it reaches the viewer before our
	 * candidates (one publisher, one topic: in order). */
	ice_link_credentials(v->ice, &u, &p);
	strcpy(a.session, m->session);
	a.has_fp = quic_cert_fingerprint(a.fp);
	g_strlcpy(a.ufrag, u, sizeof(a.ufrag));
	g_strlcpy(a.pwd, p, sizeof(a.pwd));
	if (turn.url != NULL)
		g_strlcpy(a.turn, turn.url, sizeof(a.turn));
	publish_msg(host_rv, v->reply, &a);
	if (!ice_link_start(v->ice, m->ufrag, m->pwd, &error)) {
		log_info("viewer %s: %s", v->name, error->message);
		g_source_remove(v->ice_timer);
		v->ice_timer = g_idle_add(ice_viewer_remove, v);
	}
}

static void
on_host_message(Rendezvous *r, const char *t, const uint8_t *data,
    size_t len, void *ud)
{
	SignalingMsg m;
	Viewer *v;

	if (!signaling_open_msg(&sig, data, len, &m)) {
		log_debug("rendezvous: a message that is not for us (%zu bytes), ignored",
		    len);
		count_ignored();
		return;
	}
	if (m.type == SIGNALING_OFFER) {
		host_offer(&m);
		return;
	}
	if ((v = g_hash_table_lookup(sessions, m.session)) == NULL || v->ice == NULL)
		return;
	if (m.type == SIGNALING_CANDIDATE) {
		if (!ice_link_add_remote(v->ice, m.text))
			log_debug("viewer %s: a candidate that does not parse", v->name);
	} else if (m.type == SIGNALING_DONE)
		ice_link_remote_done(v->ice);
}

static void
on_host_rendezvous(Rendezvous *r, gboolean up, const char *why, void *ud)
{
	static gboolean was_up = TRUE;

	if (up && !was_up)
		log_info("rendezvous %s is back", rendezvous_url(r));
	else if (!up && was_up)
		log_info("lost the rendezvous %s (%s); reconnecting, viewers already connected are not affected",
		    rendezvous_url(r), why ? why : "disconnected");
	was_up = up;
}

/* Connects to the first broker that answers; NULL for --rendezvous none.
 * Exits 69 naming them when none does. */
static Rendezvous *
host_rendezvous(void)
{
	static const RendezvousEvents ev = {
		.message = on_host_message,
		.state = on_host_rendezvous,
	};
	const char *const *urls = setting(opt_rendezvous, "rendezvous",
	    default_rendezvous);
	g_autoptr(GString) errs = g_string_new(NULL);

	if (urls[0] != NULL && strcmp(urls[0], "none") == 0)
		return NULL;
	for (const char *const *u = urls; *u != NULL; u++) {
		g_autoptr(GError) error = NULL;
		Rendezvous *r = rendezvous_new(*u, rendezvous_ca, &ev, NULL, &error);

		if (r == NULL)
			errx(EX_USAGE, "%s", error->message);
		if (rendezvous_connect(r, RENDEZVOUS_TIMEOUT_S, &error))
			return r;
		rendezvous_free(r);
		if (errs->len > 0)
			g_string_append(errs, "; ");
		g_string_append(errs, error->message);
	}
	errx(EX_UNAVAILABLE, "%s; choose another with --rendezvous, or use --rendezvous none for the direct path only",
	    errs->str);
}

static gboolean
on_listen_stop(gpointer ud)
{
	GHashTableIter it;
	gpointer k, val;

	g_hash_table_iter_init(&it, viewers);
	while (g_hash_table_iter_next(&it, &k, &val)) {
		Viewer *v = val;

		if (!v->gone && v->qc != NULL)
			quic_conn_close(v->qc, QUIC_APP_STOPPED, "the host stopped");
	}
	g_hash_table_iter_init(&it, children);
	while (g_hash_table_iter_next(&it, &k, &val))
		kill(-GPOINTER_TO_INT(k), SIGTERM);
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

/* The host's addresses for the ticket: every non-loopback interface
 * address a viewer could reach directly, then loopback for this machine. */
static void
gather_addrs(Ticket *t, gboolean have4, gboolean have6)
{
	struct ifaddrs *ifa;
	struct sockaddr_in lo4 = { .sin_family = AF_INET };
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6 };

	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
			const struct sockaddr *sa = i->ifa_addr;

			if (sa == NULL || !(i->ifa_flags & IFF_UP) ||
			    (i->ifa_flags & IFF_LOOPBACK) ||
			    t->n_addrs >= TICKET_MAX_ADDRS - 1)
				continue;
			if (sa->sa_family == AF_INET && have4) {
				const uint8_t *b = (const uint8_t *)
				    &((const struct sockaddr_in *)sa)->sin_addr;

				if (b[0] == 169 && b[1] == 254)
					continue;	/* link-local */
			} else if (sa->sa_family == AF_INET6 && have6) {
				const struct in6_addr *a =
				    &((const struct sockaddr_in6 *)sa)->sin6_addr;

				/* Link-local needs a scope a ticket cannot say. */
				if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_V4MAPPED(a))
					continue;
			} else
				continue;
			ticket_add_addr(t, sa);
		}
		freeifaddrs(ifa);
	}
	lo4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lo6.sin6_addr = in6addr_loopback;
	if (have4)
		ticket_add_addr(t, (struct sockaddr *)&lo4);
	else
		ticket_add_addr(t, (struct sockaddr *)&lo6);
}

static int
cmd_listen(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	Ticket t = { 0 };
	g_autofree char *ticket = NULL;
	int fd4 = -1, fd6 = -1, save = 0;
	ListenSocket lsock[2];

	cmd_argv = argv;
	if (!quic_init(&error))
		errx(EX_SOFTWARE, "%s", error->message);
	/* One socket per family on the same port; with port 0 the kernel
	 * picks the IPv4 one, and IPv6 follows (retried if that port is
	 * taken for IPv6). */
	for (int tries = 0; tries < 20; tries++) {
		if ((fd4 = udp_listen(AF_INET, port)) == -1 &&
		    errno == EADDRINUSE)
			errx(EX_TEMPFAIL, "UDP port %u is in use (another pp-tunnel?); choose another --port or leave it out",
			    port);
		if (fd4 == -1 && errno != EAFNOSUPPORT)
			err(EX_UNAVAILABLE, "UDP port %u for IPv4", port);
		t.port = fd4 >= 0 ? udp_port(fd4) : port;
		if ((fd6 = udp_listen(AF_INET6, t.port)) == -1) {
			save = errno;
			if (errno == EADDRINUSE && fd4 >= 0 && port == 0) {
				close(fd4);
				continue;
			}
			if (errno == EADDRINUSE)
				errx(EX_TEMPFAIL, "UDP port %u is in use for IPv6; choose another --port or leave it out",
				    port);
		}
		break;
	}
	if (fd6 == -1 && fd4 >= 0 && save != EADDRINUSE)
		log_debug("no IPv6: %s", g_strerror(save));
	if (fd4 == -1 && fd6 == -1)
		errx(EX_UNAVAILABLE, "cannot listen on UDP port %u: %s", port,
		    g_strerror(save));
	if (fd4 == -1)
		t.port = udp_port(fd6);

	gnutls_rnd(GNUTLS_RND_KEY, t.secret, sizeof(t.secret));
	if (!keys_derive(t.secret, sizeof(t.secret), KEYS_DIRECT_PROOF, proof_key))
		errx(EX_SOFTWARE, "cannot derive keys");
	gather_addrs(&t, fd4 >= 0, fd6 >= 0);
	viewers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, viewer_free);
	sessions = g_hash_table_new(g_str_hash, g_str_equal);
	children = g_hash_table_new_full(NULL, NULL, NULL,
	    (GDestroyNotify)lastline_free);
	network_settings();
	if (!signaling_init(&sig, t.secret, sizeof(t.secret), topic))
		errx(EX_SOFTWARE, "cannot derive keys");
	if ((host_rv = host_rendezvous()) == NULL)
		strcpy(t.rendezvous, "none");
	else {
		ice_servers();
		/* The ticket names the broker unless it is the default. */
		if (strcmp(rendezvous_url(host_rv), default_rendezvous[0]) != 0 &&
		    g_strlcpy(t.rendezvous, rendezvous_url(host_rv),
		    sizeof(t.rendezvous)) >= sizeof(t.rendezvous))
			errx(EX_USAGE, "rendezvous URL too long for a ticket (at most %d characters)",
			    TICKET_MAX_URL);
		rendezvous_subscribe(host_rv, topic);
	}
	if ((ticket = ticket_encode(&t)) == NULL)
		errx(EX_USAGE, "the ticket cannot hold this rendezvous URL; use a shorter one");

	if (ticket_file != NULL) {
		int tf = open(ticket_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);

		if (tf == -1 || fchmod(tf, 0600) == -1 ||
		    dprintf(tf, "%s\n", ticket) < 0 || close(tf) == -1)
			err(EX_CANTCREAT, "%s", ticket_file);
	}
	printf("%s\n", ticket);
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");
	log_info("listening on UDP port %u (%s%s%s); %u addresses in the ticket",
	    t.port, fd4 >= 0 ? "IPv4" : "", fd4 >= 0 && fd6 >= 0 ? " and " : "",
	    fd6 >= 0 ? "IPv6" : "", t.n_addrs);
	if (host_rv != NULL)
		log_info("rendezvous %s%s%s%s%s", rendezvous_url(host_rv),
		    stun.host ? ", STUN " : "", stun.host ? stun.host : "",
		    turn.url ? ", TURN over " : "",
		    turn.url ? ice_turn_transport_name(turn.transport) : "");
	loop = g_main_loop_new(NULL, FALSE);
	for (int i = 0; i < 2; i++) {
		int fd = i == 0 ? fd4 : fd6;

		if (fd < 0)
			continue;
		if (udp_local(fd, &lsock[i].addr, &lsock[i].addr_len) == -1)
			err(EX_OSERR, "the listening socket");
		g_unix_fd_add(fd, G_IO_IN, on_listen_socket, &lsock[i]);
	}
	g_unix_signal_add(SIGINT, on_listen_stop, NULL);
	g_unix_signal_add(SIGTERM, on_listen_stop, NULL);
	g_main_loop_run(loop);
	g_hash_table_destroy(viewers);
	g_hash_table_destroy(sessions);
	sessions = NULL;
	rendezvous_free(host_rv);
	return 0;
}

/* --- connect ------------------------------------------------------------ */

typedef struct {
	int fd;
	guint watch;
	QuicConn *qc;
	char *name;
	struct sockaddr_storage remote;
	gboolean refused;
	UdpBatch out;
} Cand;

static Cand cands[TICKET_MAX_ADDRS];
static gboolean ice_possible;	/* the ticket has a rendezvous */
static void start_ice(void);
static guint n_cands;
static Cand *winner;
static gboolean connected;
static GString *tried;
static int saved_fl[2] = { -1, -1 };

static void
restore_stdio(void)
{
	/* O_NONBLOCK belongs to the open file, which a shell may share. */
	for (int i = 0; i < 2; i++)
		if (saved_fl[i] != -1)
			fcntl(i, F_SETFL, saved_fl[i]);
}

static void
cand_send(void *ctx, const uint8_t *pkt, size_t len)
{
	Cand *c = ctx;

	if (c->fd >= 0)
		udp_batch_add(&c->out, pkt, len);
}

static void
cand_flush(void *ctx)
{
	Cand *c = ctx;

	if (c->fd >= 0)
		udp_batch_flush(&c->out);
}

static void
cand_drop(Cand *c)
{
	if (c->qc != NULL) {
		quic_conn_close(c->qc, QUIC_APP_OK, "another address answered first");
		quic_conn_free(c->qc);
	}
	c->qc = NULL;
	if (c->watch != 0)
		g_source_remove(c->watch);
	c->watch = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static gboolean
on_cand_socket(int fd, GIOCondition cond, gpointer ud)
{
	Cand *c = ud;
	uint8_t buf[65536];

	for (int i = 0; i < 64 && c->fd >= 0; i++) {
		struct sockaddr_storage from;
		socklen_t from_len;
		size_t seg;
		ssize_t n = udp_recv(fd, buf, sizeof(buf), &seg, &from,
		    &from_len, NULL, NULL);

		if (n == -1) {
			if (errno == ECONNREFUSED && winner == NULL) {
				/* Nothing listens there (ICMP port
				 * unreachable): when that is true of every
				 * address, there is no point waiting. */
				guint refused = 0;

				c->refused = TRUE;
				for (guint k = 0; k < n_cands; k++)
					refused += cands[k].refused;
				if (refused == n_cands && !ice_possible)
					errx(EX_UNAVAILABLE, "no pp-tunnel host is listening at %s; is the host still running?",
					    tried->str);
				if (refused == n_cands)
					start_ice();
				continue;
			}
			break;
		}
		if (winner == NULL) {
			/* The first address that answers is the path. */
			winner = c;
			for (guint k = 0; k < n_cands; k++)
				if (&cands[k] != c)
					cand_drop(&cands[k]);
		}
		for (ssize_t off = 0; off < n && c == winner && c->qc != NULL;
		    off += seg)
			quic_conn_recv(c->qc, buf + off, MIN((ssize_t)seg, n - off));
	}
	return G_SOURCE_CONTINUE;
}

static void
attach_stdio(QuicConn *qc)
{
	int in, out;

	saved_fl[0] = fcntl(0, F_GETFL);
	saved_fl[1] = fcntl(1, F_GETFL);
	atexit(restore_stdio);
	/* Not the fds themselves: closing a copy when one direction ends
	 * leaves fds 0 and 1 for restore_stdio. */
	in = dup(0);
	out = dup(1);
	if (out == -1)
		err(EX_OSERR, "stdout");
	quic_conn_attach(qc, in, out);
}

static void
on_connect_ready(QuicConn *qc, void *ud)
{
	Cand *c = ud;

	connected = TRUE;
	log_info("connected to %s (path direct, %s, RTT %.1f ms)", c->name,
	    family_name((struct sockaddr *)&c->remote), quic_conn_rtt_ms(qc));
	attach_stdio(qc);
}

static void G_GNUC_NORETURN
connection_ended(const char *name, const QuicEnd *end)
{
	switch (end->kind) {
	case QUIC_END_DONE:
	case QUIC_END_LOCAL:
		exit(0);
	case QUIC_END_PEER:
		switch (end->app_code) {
		case QUIC_APP_FULL:
			errx(EX_TEMPFAIL, "host is full (%s viewers); try again later",
			    end->reason);
		case QUIC_APP_REFUSED:
			errx(EX_NOPERM, "the host refused this ticket's secret; ask the host for its current ticket");
		case QUIC_APP_STOPPED:
			warnx("the host stopped sharing");
			exit(0);
		case QUIC_APP_HOST_FAILED:
			errx(EX_UNAVAILABLE, "the host's stream failed: %s",
			    end->reason[0] != '\0' ? end->reason : "no reason given");
		case QUIC_APP_OK:
			errx(EX_UNAVAILABLE, "the host closed the connection before the end of the stream");
		default:
			errx(EX_UNAVAILABLE, "the host closed the connection (error 0x%llx: %s)",
			    (unsigned long long)end->app_code, end->reason);
		}
	case QUIC_END_PROOF:
		/* With a wrong secret, a refusal from the real host cannot
		 * be told from one by an impostor: neither proves it. */
		if (end->app_code == QUIC_APP_REFUSED)
			errx(EX_NOPERM, "the host refused this ticket's secret, or it is not the host (it did not prove the secret either); ask the host for its current ticket");
		errx(EX_NOPERM, "the host at %s did not prove it holds this ticket's secret; not trusting it",
		    name);
	case QUIC_END_CERT:
		errx(EX_NOPERM, "the host's certificate is not the one its sealed answer named; not trusting this path");
	case QUIC_END_IDLE:
		errx(EX_UNAVAILABLE, "lost the connection to %s: no packet for %u s",
		    name, idle_ms / 1000);
	case QUIC_END_HANDSHAKE:
		errx(EX_UNAVAILABLE, "the host at %s answered but the handshake did not finish",
		    name);
	case QUIC_END_ERROR:
		errx(EX_UNAVAILABLE, "the connection to %s failed: %s", name,
		    end->reason);
	}
	errx(EX_SOFTWARE, "unknown end of connection");
}

static void
on_connect_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	Cand *c = ud;

	if (c != winner)
		return;
	connection_ended(c->name, end);
}

/* --- connect: through the rendezvous and ICE ----------------------------- */

#define DIRECT_MS 1000		/* the direct path's turn, when there is ICE: an answer takes one RTT */

static gboolean no_path_timeout(gpointer ud);

static struct {
	Ticket *t;
	char url[TICKET_MAX_URL + 1];
	Rendezvous *rv;
	char session[SIGNALING_SESSION_LEN + 1];
	char reply[129];
	IceLink *ice;
	QuicConn *qc;
	uint8_t host_fp[32];
	gboolean started, answered, relay_offered;
	guint offer_timer;
	IceTurn host_turn;
	char *path;
	int relay_transport;
} vi;

static void
send_offer(void)
{
	SignalingMsg m = { .type = SIGNALING_OFFER };
	const char *u, *p;

	strcpy(m.session, vi.session);
	strcpy(m.reply, vi.reply);
	m.has_fp = quic_cert_fingerprint(m.fp);
	ice_link_credentials(vi.ice, &u, &p);
	g_strlcpy(m.ufrag, u, sizeof(m.ufrag));
	g_strlcpy(m.pwd, p, sizeof(m.pwd));
	publish_msg(vi.rv, topic, &m);
}

static gboolean
on_offer_timer(gpointer ud)
{
	/* Again until answered: the host may have been reconnecting. */
	if (vi.answered) {
		vi.offer_timer = 0;
		return G_SOURCE_REMOVE;
	}
	send_offer();
	return G_SOURCE_CONTINUE;
}

static void G_GNUC_NORETURN
no_path(const char *why)
{
	g_autofree char *sum = vi.ice ? ice_link_summary(vi.ice) : g_strdup("no candidates");

	if (!vi.answered)
		errx(EX_UNAVAILABLE, "no answer from the host through the rendezvous %s within %u s; is the host running (it may have stopped, or uses another rendezvous)?",
		    vi.url, timeout_s);
	if (turn.url == NULL && !vi.relay_offered)
		errx(EX_UNAVAILABLE, "no path to the host %s (%s; direct: %s); no TURN server was given: both sides' NATs seem to need a relay; give one with --turn turn://USER:PASS@HOST:PORT on either side (a self-hosted coturn will do: see pp-tunnel(1))",
		    why, sum, tried->str);
	if (vi.ice != NULL && ice_link_relay_error(vi.ice) != NULL)
		errx(EX_UNAVAILABLE, "no path to the host %s (%s; direct: %s); no relay: %s",
		    why, sum, tried->str, ice_link_relay_error(vi.ice));
	errx(EX_UNAVAILABLE, "no path to the host %s (%s; direct: %s), even through the TURN server; is UDP or TCP to it blocked?",
	    why, sum, tried->str);
}

static void
viewer_ice_send(void *ctx, const uint8_t *pkt, size_t len)
{
	ice_link_send(vi.ice, pkt, len);
}

static void
on_ice_ready(QuicConn *qc, void *ud)
{
	connected = TRUE;
	g_free(vi.path);
	ice_link_path(vi.ice, &vi.relay_transport, &vi.path);
	log_info("connected through the rendezvous %s (path %s, RTT %.1f ms)",
	    vi.url, vi.path, quic_conn_rtt_ms(qc));
	attach_stdio(qc);
}

static void
on_ice_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	connection_ended("the host", end);
}

static void
viewer_ice_connected(IceLink *l, void *ud)
{
	static const QuicEvents ev = {
		.ready = on_ice_ready,
		.ended = on_ice_ended,
	};
	g_autoptr(GError) error = NULL;
	struct sockaddr_storage local, remote;
	socklen_t llen, rlen;

	fill_sockaddr(&local, &llen, 2);
	fill_sockaddr(&remote, &rlen, 1);
	QuicConfig cfg = {
		.local = (struct sockaddr *)&local,
		.local_len = llen,
		.remote = (struct sockaddr *)&remote,
		.remote_len = rlen,
		.io = { viewer_ice_send, NULL, NULL },
		.max_udp_payload = ICE_UDP_PAYLOAD,
		.probe_mtu = TRUE,
		.idle_timeout_ms = idle_ms,
		.handshake_timeout_ms = timeout_s * 1000,
		.close_when_output_gone = TRUE,
		.close_after_peer_fin = isatty(0),
		.pin_peer = TRUE,
		.ev = ev,
	};
	memcpy(cfg.proof_key, proof_key, KEYS_LEN);
	/* The certificate the sealed answer named, checked in the TLS
	 * handshake: before our proof or any stream byte. */
	memcpy(cfg.peer_fp, vi.host_fp, 32);
	if ((vi.qc = quic_conn_new_client(&cfg, &error)) == NULL)
		errx(EX_SOFTWARE, "%s", error->message);
}

static void
viewer_ice_failed(IceLink *l, void *ud)
{
	no_path("(every candidate pair failed)");
}

static void
viewer_ice_recv(IceLink *l, const uint8_t *pkt, size_t len, void *ud)
{
	if (vi.qc != NULL)
		quic_conn_recv(vi.qc, pkt, len);
}

static void
viewer_ice_candidate(IceLink *l, const char *sdp, void *ud)
{
	SignalingMsg m = { .type = SIGNALING_CANDIDATE };

	strcpy(m.session, vi.session);
	g_strlcpy(m.text, sdp, sizeof(m.text));
	publish_msg(vi.rv, topic, &m);
}

static void
viewer_ice_gathered(IceLink *l, void *ud)
{
	SignalingMsg m = { .type = SIGNALING_DONE };

	strcpy(m.session, vi.session);
	publish_msg(vi.rv, topic, &m);
}

static void
on_viewer_message(Rendezvous *r, const char *t, const uint8_t *data,
    size_t len, void *ud)
{
	g_autoptr(GError) error = NULL;
	SignalingMsg m;

	if (!signaling_open_msg(&sig, data, len, &m) ||
	    strcmp(m.session, vi.session) != 0)
		return;
	switch (m.type) {
	case SIGNALING_FULL:
		errx(EX_TEMPFAIL, "host is full (%s viewers); try again later", m.text);
	case SIGNALING_ANSWER:
		if (vi.answered)
			return;
		vi.answered = TRUE;
		memcpy(vi.host_fp, m.fp, 32);
		/* Our own TURN server first, else the host's. */
		if (turn.url == NULL && m.turn[0] != '\0') {
			if (ice_parse_turn(m.turn, &vi.host_turn, &error)) {
				/* turns://: verified with our own CAs. */
				vi.host_turn.ca_file = g_strdup(turn_ca);
				ice_link_set_turn(vi.ice, &vi.host_turn);
				vi.relay_offered = TRUE;
			} else
				warnx("the host's TURN server: %s; going on without it",
				    error->message);
			g_clear_error(&error);
		}
		if (!ice_link_start(vi.ice, m.ufrag, m.pwd, &error))
			errx(EX_UNAVAILABLE, "%s", error->message);
		return;
	case SIGNALING_CANDIDATE:
		if (!ice_link_add_remote(vi.ice, m.text))
			log_debug("a candidate from the host that does not parse");
		return;
	case SIGNALING_DONE:
		ice_link_remote_done(vi.ice);
		return;
	default:
		return;
	}
}

static void
start_ice(void)
{
	static const RendezvousEvents rev = { .message = on_viewer_message };
	static const IceEvents iev = {
		.candidate = viewer_ice_candidate,
		.gathered = viewer_ice_gathered,
		.connected = viewer_ice_connected,
		.failed = viewer_ice_failed,
		.recv = viewer_ice_recv,
	};
	g_autoptr(GError) error = NULL;
	char suffix[33];

	if (vi.started || winner != NULL)
		return;
	vi.started = TRUE;
	for (guint k = 0; k < n_cands; k++)
		cand_drop(&cands[k]);
	ice_servers();
	log_debug("no direct answer; through the rendezvous %s", vi.url);
	if ((vi.rv = rendezvous_new(vi.url, rendezvous_ca, &rev, NULL, &error)) == NULL)
		errx(EX_USAGE, "%s", error->message);
	if (!rendezvous_connect(vi.rv, MIN(timeout_s, RENDEZVOUS_TIMEOUT_S), &error))
		errx(EX_UNAVAILABLE, "%s (the host's direct addresses did not answer: %s)",
		    error->message, tried->str);
	signaling_random_hex(vi.session, SIGNALING_SESSION_LEN / 2);
	signaling_random_hex(suffix, 16);
	snprintf(vi.reply, sizeof(vi.reply), "%s/%s", topic, suffix);
	rendezvous_subscribe(vi.rv, vi.reply);
	vi.ice = ice_link_new(TRUE, &stun, &turn, &iev, NULL);
	send_offer();
	vi.offer_timer = g_timeout_add_seconds(3, on_offer_timer, NULL);
	g_timeout_add_seconds(timeout_s, no_path_timeout, NULL);
}

static gboolean
no_path_timeout(gpointer ud)
{
	if (!connected)
		no_path(g_strdup_printf("within %u s", timeout_s));
	return G_SOURCE_REMOVE;
}

static gboolean
on_direct_timeout(gpointer ud)
{
	if (winner == NULL)
		start_ice();
	return G_SOURCE_REMOVE;
}

static gboolean
on_connect_timeout(gpointer ud)
{
	if (connected || vi.started)
		return G_SOURCE_REMOVE;
	if (winner != NULL)
		errx(EX_UNAVAILABLE, "the host at %s answered but the connection was not set up within %u s",
		    winner->name, timeout_s);
	errx(EX_UNAVAILABLE, "no answer within %u s from the host's addresses: %s; is the host running and reachable?",
	    timeout_s, tried->str);
}

static gboolean
on_connect_stop(gpointer ud)
{
	if (winner != NULL && winner->qc != NULL)
		quic_conn_close(winner->qc, QUIC_APP_OK, "the viewer left");
	exit(0);
}

/* Exits 65 when text is not a whole ticket. */
static void
ticket_check(const char *text, Ticket *t)
{
	if (!ticket_decode(text, t))
		errx(EX_DATAERR, "ticket is damaged: check that it was copied whole (it starts with \"%s\")",
		    TICKET_PREFIX);
}

static int
cmd_connect(const char *text)
{
	g_autoptr(GError) error = NULL;
	static const QuicEvents ev = {
		.ready = on_connect_ready,
		.ended = on_connect_ended,
	};
	Ticket t;

	ticket_check(text, &t);
	network_settings();
	if (!signaling_init(&sig, t.secret, sizeof(t.secret), topic))
		errx(EX_SOFTWARE, "cannot derive keys");
	/* The rendezvous: ours if given, else the ticket's, else the default. */
	if (opt_rendezvous != NULL)
		g_strlcpy(vi.url, opt_rendezvous, sizeof(vi.url));
	else if (t.rendezvous[0] != '\0')
		g_strlcpy(vi.url, t.rendezvous, sizeof(vi.url));
	else
		g_strlcpy(vi.url, setting(NULL, "rendezvous", default_rendezvous)[0],
		    sizeof(vi.url));
	ice_possible = strcmp(vi.url, "none") != 0;
	if (t.n_addrs == 0 && !ice_possible)
		errx(EX_UNAVAILABLE, "the ticket has no direct address and no rendezvous");
	if (!quic_init(&error))
		errx(EX_SOFTWARE, "%s", error->message);
	if (!keys_derive(t.secret, sizeof(t.secret), KEYS_DIRECT_PROOF, proof_key))
		errx(EX_SOFTWARE, "cannot derive keys");
	loop = g_main_loop_new(NULL, FALSE);
	tried = g_string_new(NULL);

	/* Every address at once; the first that answers wins. */
	for (guint i = 0; i < t.n_addrs; i++) {
		Cand *c = &cands[n_cands];
		struct sockaddr_storage local;
		socklen_t rlen, llen;

		rlen = ticket_sockaddr(&t, i, &c->remote);
		c->name = ticket_addr_string(&t, i);
		if (tried->len > 0)
			g_string_append(tried, ", ");
		g_string_append(tried, c->name);
		c->fd = udp_connect((struct sockaddr *)&c->remote, rlen, &local,
		    &llen);
		if (c->fd == -1) {
			g_string_append_printf(tried, " (%s)", g_strerror(errno));
			continue;
		}
		QuicConfig cfg = {
			.local = (struct sockaddr *)&local,
			.local_len = llen,
			.remote = (struct sockaddr *)&c->remote,
			.remote_len = rlen,
			.io = { cand_send, cand_flush, c },
			.max_udp_payload = udp_max_payload(
			    (struct sockaddr *)&c->remote, rlen),
			.idle_timeout_ms = idle_ms,
			.handshake_timeout_ms = timeout_s * 1000,
			.close_when_output_gone = TRUE,
			.close_after_peer_fin = isatty(0),
			.ev = ev,
			.ud = c,
		};
		memcpy(cfg.proof_key, proof_key, KEYS_LEN);
		c->out.fd = c->fd;
		c->watch = g_unix_fd_add(c->fd, G_IO_IN, on_cand_socket, c);
		n_cands++;
		c->qc = quic_conn_new_client(&cfg, &error);
		if (c->qc == NULL)
			errx(EX_SOFTWARE, "%s", error->message);
	}
	if (n_cands == 0 && !ice_possible)
		errx(EX_UNAVAILABLE, "cannot send to any of the host's addresses: %s",
		    tried->str);
	if (getenv("PP_TUNNEL_NO_DIRECT") != NULL && ice_possible)
		start_ice();
	else if (n_cands == 0)
		start_ice();
	else if (ice_possible)
		g_timeout_add(MIN(DIRECT_MS, timeout_s * 1000), on_direct_timeout, NULL);
	else
		g_timeout_add_seconds(timeout_s, on_connect_timeout, NULL);
	g_unix_signal_add(SIGINT, on_connect_stop, NULL);
	g_unix_signal_add(SIGTERM, on_connect_stop, NULL);
	g_main_loop_run(loop);
	return 0;
}

/* --- main --------------------------------------------------------------- */

int
main(int argc, char *argv[])
{
	static const struct option listen_opts[] = {
		{ "max-viewers", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "rendezvous", required_argument, NULL, 'r' },
		{ "ticket-file", required_argument, NULL, 'f' },
		{ "rendezvous-ca", required_argument, NULL, 'c' },
		{ "stun", required_argument, NULL, 's' },
		{ "turn", required_argument, NULL, 'u' },
		{ "turn-ca", required_argument, NULL, 'a' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	static const struct option connect_opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "rendezvous", required_argument, NULL, 'r' },
		{ "rendezvous-ca", required_argument, NULL, 'c' },
		{ "stun", required_argument, NULL, 's' },
		{ "turn", required_argument, NULL, 'u' },
		{ "turn-ca", required_argument, NULL, 'a' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	const char *env, *mode;
	gboolean is_listen;
	int ch;

	log_init();
	signal(SIGPIPE, SIG_IGN);
	opt_early(argc, argv, usage_text);
	if (argc < 2)
		opt_usage(usage_text, EX_USAGE);
	mode = argv[1];
	if (strcmp(mode, "check") == 0) {
		Ticket t;

		if (argc != 3)
			opt_usage(usage_text, EX_USAGE);
		ticket_check(argv[2], &t);
		return 0;
	}
	if (strcmp(mode, "listen") == 0)
		is_listen = TRUE;
	else if (strcmp(mode, "connect") == 0)
		is_listen = FALSE;
	else
		opt_usage(usage_text, EX_USAGE);
	argc--;
	argv++;

	if ((env = getenv("PP_TUNNEL_IDLE_TIMEOUT")) != NULL && *env != '\0')
		idle_ms = opt_number("PP_TUNNEL_IDLE_TIMEOUT", env, 1, 3600) * 1000;

	/* listen stops at the first word of CMD; connect takes TICKET and
	 * its options in any order. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, is_listen ? "+h" : "h",
	    is_listen ? listen_opts : connect_opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			max_viewers = opt_number("--max-viewers", optarg, 1, 100000);
			break;
		case 'p':
			port = opt_number("--port", optarg, 0, 65535);
			break;
		case 'r':
			if (strcmp(optarg, "none") != 0 &&
			    !g_str_has_prefix(optarg, "mqtt://") &&
			    !g_str_has_prefix(optarg, "mqtts://"))
				errx(EX_USAGE, "--rendezvous %s: not mqtt://HOST[:PORT], mqtts://HOST[:PORT] or none",
				    optarg);
			opt_rendezvous = optarg;
			break;
		case 'c':
			rendezvous_ca = optarg;
			if (access(optarg, R_OK) == -1)
				err(EX_USAGE, "--rendezvous-ca %s", optarg);
			break;
		case 's':
			opt_stun = optarg;
			break;
		case 'u':
			opt_turn = optarg;
			break;
		case 'a':
			turn_ca = optarg;
			if (access(optarg, R_OK) == -1)
				err(EX_USAGE, "--turn-ca %s", optarg);
			break;
		case 'f':
			ticket_file = optarg;
			break;
		case 't':
			timeout_s = opt_number("--timeout", optarg, 1, 3600);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, is_listen ? "+h" : "h",
			    is_listen ? listen_opts : connect_opts);
		}
	}
	argc -= optind;
	argv += optind;

	if (is_listen) {
		if (argc < 1)
			errx(EX_USAGE, "listen needs a command to run for each viewer: pp-tunnel listen -- CMD [ARG ...]");
		return cmd_listen(argc, argv);
	}
	if (argc != 1)
		opt_usage(usage_text, EX_USAGE);
	return cmd_connect(argv[0]);
}
