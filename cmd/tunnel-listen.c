/*
 * pp-tunnel listen: the host. Viewers arrive on the UDP sockets (the
 * direct path) or as sealed offers on the rendezvous topic (an ICE link
 * each); once a viewer has proved the ticket's secret, CMD runs for it
 * with the stream on its stdin and stdout.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
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

#include "lastline.h"
#include "log.h"
#include "spawner.h"
#include "status.h"
#include "tunnel.h"
#include "udp.h"

/* Why a first datagram from an unknown address got no connection. */
typedef enum {
	AWAY_RETRY,	/* sent a Retry (subtracting those that came back) */
	AWAY_TOKEN,	/* its token is not ours for that address, or stale */
	AWAY_SOURCE,	/* PER_ADDRESS half-open ones from its address already */
	AWAY_FULL,	/* MAX_HALF_OPEN half-open ones already */
	AWAY_JUNK,	/* not a QUIC Initial */
	AWAY_N
} AwayWhy;

/* The host's state, from tunnel_listen's start to its teardown. */
typedef struct {
	Tunnel *t;
	char **cmd_argv;
	Spawner *spawner;	/* runs cmd_argv outside our confinement */
	GMainLoop *loop;
	GHashTable *viewers;	/* "remote|local" or "ice|session" -> Viewer */
	GHashTable *sessions;	/* session -> Viewer (ICE ones) */
	GHashTable *children;	/* pid -> its stderr (LastLine), the CMDs running */
	guint n_admitted;
	guint n_pending;	/* ICE viewers without QUIC yet */
	Rendezvous *rv;		/* NULL with --rendezvous none */
	gboolean rendezvous_down;
	double tokens;		/* offer_rate_ok's bucket */
	gint64 tokens_at;
	guint64 n_ignored, n_ignored_total;
	guint ignored_timer;
	guint64 away[AWAY_N];	/* first datagrams that got no connection */
	guint away_timer;
} Listen;

/* The address a listening socket is bound to. */
typedef struct {
	Listen *l;
	struct sockaddr_storage addr;
	socklen_t addr_len;
} ListenSocket;

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

/* New viewers' offers, once authenticated: a token bucket of 10 a second,
 * 20 at once. Not every message on the topic: anyone can publish there,
 * and a limit before authentication would let junk crowd out the offers
 * and candidates of a viewer with the ticket. Junk costs little anyway:
 * signaling_open drops most of it on its size, version, clock and replay
 * checks, and the rest after one decryption of at most 2 kB. */
static gboolean
offer_rate_ok(Listen *l)
{
	gint64 now = g_get_monotonic_time();

	l->tokens = MIN(20, l->tokens + (now - l->tokens_at) / 1e6 * 10);
	l->tokens_at = now;
	if (l->tokens < 1)
		return FALSE;
	l->tokens--;
	return TRUE;
}

/* Messages on the topic that did not open, counted and logged at most
 * every 10 s rather than one line each. */
static gboolean
on_ignored_timer(gpointer ud)
{
	Listen *l = ud;

	if (l->n_ignored == 0) {
		l->ignored_timer = 0;
		return G_SOURCE_REMOVE;
	}
	log_info("rendezvous: %" G_GUINT64_FORMAT " messages on the topic ignored in the last 10 s (%" G_GUINT64_FORMAT " in all): not sealed with this ticket's secret, or replayed",
	    l->n_ignored, l->n_ignored_total);
	l->n_ignored = 0;
	return G_SOURCE_CONTINUE;
}

static void
count_ignored(Listen *l)
{
	l->n_ignored++;
	l->n_ignored_total++;
	if (l->ignored_timer == 0)
		l->ignored_timer = g_timeout_add_seconds(10, on_ignored_timer, l);
}

typedef struct {
	Listen *l;
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
	char *path;
	pid_t pid;		/* its CMD, until that exits */
} Viewer;

/* How long a failure of a viewer's CMD waits for the viewer to
 * acknowledge the stream before it, so the viewer keeps what was sent. */
#define FAILURE_SEND_MS		5000

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
	if (v->ice != NULL && v->l->sessions != NULL &&
	    g_hash_table_lookup(v->l->sessions, v->session) == v)
		g_hash_table_remove(v->l->sessions, v->session);
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
viewers_trim(Listen *l)
{
#ifdef __GLIBC__
	if (g_hash_table_size(l->viewers) == 0)
		malloc_trim(0);
#endif
}

static gboolean
viewer_remove(gpointer p)
{
	Viewer *v = p;
	Listen *l = v->l;

	g_hash_table_remove(l->viewers, v->key);
	viewers_trim(l);
	return G_SOURCE_REMOVE;
}

static void
on_handshake(QuicConn *qc, void *ud)
{
	Viewer *v = ud;
	Listen *l = v->l;

	/* On an ICE path the TLS handshake only completes with the
	 * certificate the sealed offer named (QuicConfig.pin_peer). */
	if (l->t->max_viewers > 0 && l->n_admitted >= l->t->max_viewers) {
		char reason[32];

		/* The viewer prints this as "host is full (N/N viewers)". */
		snprintf(reason, sizeof(reason), "%u/%u", l->n_admitted,
		    l->t->max_viewers);
		log_info("viewer %s refused: host is full (%s viewers)",
		    v->name, reason);
		status_event("viewer-refused", "id", v->name, "reason", "full",
		    NULL);
		v->refused_full = TRUE;
		quic_conn_close(qc, QUIC_APP_FULL, reason);
		return;
	}
	v->admitted = TRUE;
	l->n_admitted++;
}

static Viewer *
viewer_of_cmd(Listen *l, pid_t pid)
{
	GHashTableIter it;
	gpointer k, val;

	g_hash_table_iter_init(&it, l->viewers);
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
	Listen *l = ud;
	LastLine *err = g_hash_table_lookup(l->children, GINT_TO_POINTER(pid));
	g_autofree char *why = lastline_reason(err, l->cmd_argv[0], status, FALSE);
	g_autofree char *how = lastline_reason(err, l->cmd_argv[0], status, TRUE);
	Viewer *v = viewer_of_cmd(l, pid);

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
	g_hash_table_remove(l->children, GINT_TO_POINTER(pid));
	g_spawn_close_pid(pid);
}

static void
on_viewer_ready(QuicConn *qc, void *ud)
{
	Viewer *v = ud;
	Listen *l = v->l;
	g_autoptr(GError) error = NULL;
	int to_cmd[2], from_cmd[2], err_cmd[2];
	char rtt[32];
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
	pid = spawner_spawn(l->spawner, (const char *const *)l->cmd_argv, &o,
	    &error);
	close(to_cmd[0]);
	close(from_cmd[1]);
	close(err_cmd[1]);
	if (pid == -1) {
		log_info("cannot run %s: %s", l->cmd_argv[0], error->message);
		close(to_cmd[1]);
		close(from_cmd[0]);
		close(err_cmd[0]);
		quic_conn_close(qc, QUIC_APP_INTERNAL, "cannot start the command");
		return;
	}
	g_hash_table_insert(l->children, GINT_TO_POINTER(pid),
	    lastline_new(err_cmd[0]));
	v->pid = pid;
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
	snprintf(rtt, sizeof(rtt), "%.1f", quic_conn_rtt_ms(qc));
	if (v->ice != NULL) {
		int rt;
		IcePathKind kind;

		g_free(v->path);
		kind = ice_link_path(v->ice, &rt, &v->path);
		log_info("viewer %s arrived (path %s, RTT %s ms)", v->name,
		    v->path, rtt);
		status_event("viewer-arrived", "id", v->name,
		    "addr", tunnel_path_peer(v->path),
		    "path", tunnel_path_word(kind),
		    "family", tunnel_path_family(v->path), "rtt_ms", rtt,
		    "via", "rendezvous", NULL);
	} else {
		const char *family = tunnel_family_name(
		    (struct sockaddr *)&v->remote);

		log_info("viewer %s arrived (%s, RTT %s ms)", v->name, family,
		    rtt);
		status_event("viewer-arrived", "id", v->name, "addr", v->name,
		    "path", "direct", "family", family, "rtt_ms", rtt,
		    "via", "direct", NULL);
	}
	quic_conn_attach(qc, from_cmd[0], to_cmd[1]);
}

static void
on_viewer_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	Viewer *v = ud;

	if (v->admitted)
		v->l->n_admitted--;
	v->admitted = FALSE;
	v->gone = TRUE;
	/* Kept a second, so that a refused viewer's late packets get the
	 * close again. */
	g_timeout_add(1000, viewer_remove, v);
	if (v->arrived) {
		uint64_t sent, received;
		g_autofree char *s = NULL, *r = NULL;
		double secs = (g_get_monotonic_time() - v->t0) / 1e6;
		const char *why;
		char nsent[24], nreceived[24], nsecs[24];

		quic_conn_counts(qc, &sent, &received);
		s = size_string(sent);
		r = size_string(received);
		switch (end->kind) {
		case QUIC_END_IDLE:
			why = "vanished";
			log_info("viewer %s vanished: no packet for %u s (after %.1f s, sent %s, received %s)",
			    v->name, v->l->t->idle_ms / 1000, secs, s, r);
			break;
		case QUIC_END_ERROR:
			why = "failed";
			log_info("viewer %s failed: %s (after %.1f s, sent %s, received %s)",
			    v->name, end->reason, secs, s, r);
			break;
		default:
			why = "left";
			log_info("viewer %s left after %.1f s (sent %s, received %s, RTT %.1f ms)",
			    v->name, secs, s, r, quic_conn_rtt_ms(qc));
			break;
		}
		snprintf(nsent, sizeof(nsent), "%" G_GUINT64_FORMAT, sent);
		snprintf(nreceived, sizeof(nreceived), "%" G_GUINT64_FORMAT,
		    received);
		snprintf(nsecs, sizeof(nsecs), "%.1f", secs);
		status_event("viewer-left", "id", v->name, "reason", why,
		    "bytes", nsent, "received", nreceived, "seconds", nsecs,
		    NULL);
		return;
	}
	if (end->kind == QUIC_END_PROOF) {
		log_info("viewer %s refused: it did not prove the ticket's secret",
		    v->name);
		status_event("viewer-refused", "id", v->name, "reason", "secret",
		    NULL);
	} else if (end->kind == QUIC_END_CERT) {
		log_info("viewer %s refused: its certificate is not the one its offer named",
		    v->name);
		status_event("viewer-refused", "id", v->name, "reason", "cert",
		    NULL);
	} else if (!v->refused_full)
		log_debug("connection from %s ended before it was set up: %s",
		    v->name, end->reason);
}

/* A viewer's connection from its first datagram: on the direct path, or
 * on its ICE link with the certificate its sealed offer named. */
static QuicConn *
viewer_quic(Viewer *v, const uint8_t *pin_fp, const QuicAddrProof *proof,
    const uint8_t *pkt, size_t len, GError **error)
{
	QuicConfig cfg = tunnel_quic_config(v->l->t, TRUE,
	    (struct sockaddr *)&v->local, v->local_len,
	    (struct sockaddr *)&v->remote, v->remote_len, pin_fp);

	cfg.io = (QuicIO){ viewer_send, viewer_flush, v };
	cfg.ev = (QuicEvents){
		.handshake_done = on_handshake,
		.ready = on_viewer_ready,
		.ended = on_viewer_ended,
	};
	cfg.ud = v;
	cfg.addr_proof = proof;
	return quic_conn_new_server(&cfg, pkt, len, error);
}

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

/* Half-open direct connections (not yet proven the secret): at most
 * MAX_HALF_OPEN in all and PER_ADDRESS from one IP address. Only senders
 * that answered a Retry get one, so forged source addresses take none. */
#define MAX_HALF_OPEN	256
#define PER_ADDRESS	8

static gboolean
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return FALSE;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* The half-open direct connections, and in *from_ip those from that IP. */
static guint
half_open(Listen *l, const struct sockaddr_storage *from, guint *from_ip)
{
	GHashTableIter it;
	Viewer *v;
	guint n = 0;

	*from_ip = 0;
	g_hash_table_iter_init(&it, l->viewers);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&v)) {
		if (v->ice != NULL || v->arrived)
			continue;
		n++;
		if (same_ip(&v->remote, from))
			(*from_ip)++;
	}
	return n;
}

/* What was turned away, counted and logged at most every 10 s, and once
 * as a status event: a flood makes one line, not one per datagram. */
static const char *const away_text[AWAY_N] = {
	[AWAY_RETRY] = "never answered the Retry (an unproven address)",
	[AWAY_TOKEN] = "had a token not valid for their address",
	[AWAY_SOURCE] = "came from an address with " G_STRINGIFY(PER_ADDRESS)
	    " half-open connections",
	[AWAY_FULL] = "found " G_STRINGIFY(MAX_HALF_OPEN) " half-open connections",
	[AWAY_JUNK] = "were not QUIC Initials",
};

static gboolean
on_away_timer(gpointer ud)
{
	Listen *l = ud;
	guint64 *a = l->away;
	g_autoptr(GString) line = g_string_new(NULL);
	char n[AWAY_N][24];

	/* Junk alone (late packets of connections that ended) is not news. */
	if (a[AWAY_RETRY] + a[AWAY_TOKEN] + a[AWAY_SOURCE] + a[AWAY_FULL] == 0) {
		memset(l->away, 0, sizeof(l->away));
		l->away_timer = 0;
		return G_SOURCE_REMOVE;
	}
	for (int i = 0; i < AWAY_N; i++) {
		g_snprintf(n[i], sizeof(n[i]), "%" G_GUINT64_FORMAT, a[i]);
		if (a[i] > 0)
			g_string_append_printf(line, "%s%s %s",
			    line->len > 0 ? ", " : "", n[i], away_text[i]);
	}
	log_info("turned away in the last 10 s, first datagrams from new addresses that %s",
	    line->str);
	status_event("turned-away", "retry", n[AWAY_RETRY], "token", n[AWAY_TOKEN],
	    "per-address", n[AWAY_SOURCE], "full", n[AWAY_FULL],
	    "junk", n[AWAY_JUNK], NULL);
	memset(l->away, 0, sizeof(l->away));
	return G_SOURCE_CONTINUE;
}

static void
count_away(Listen *l, AwayWhy why)
{
	l->away[why]++;
	if (l->away_timer == 0)
		l->away_timer = g_timeout_add_seconds(10, on_away_timer, l);
}

/* A first datagram from an address with no connection: a connection only
 * for a proven address, within the bounds. */
static gboolean
admit_first(Listen *l, int fd, const uint8_t *pkt, size_t len,
    const struct sockaddr_storage *from, socklen_t from_len,
    const struct sockaddr_storage *local, QuicAddrProof *proof)
{
	uint8_t retry[QUIC_RETRY_MAX];
	size_t retry_len;
	guint all, from_ip;

	switch (quic_first_datagram(pkt, len, (const struct sockaddr *)from,
	    from_len, proof, retry, &retry_len)) {
	case QUIC_FIRST_IGNORE:
		count_away(l, AWAY_JUNK);
		return FALSE;
	case QUIC_FIRST_RETRY:
		if (udp_send(fd, retry, retry_len, 0, (const struct sockaddr *)from,
		    from_len, (const struct sockaddr *)local) == 0)
			count_away(l, AWAY_RETRY);
		return FALSE;
	case QUIC_FIRST_BAD_TOKEN:
		count_away(l, AWAY_TOKEN);
		return FALSE;
	case QUIC_FIRST_VALID:
		break;
	}
	/* One that came back is not one turned away. */
	if (l->away[AWAY_RETRY] > 0)
		l->away[AWAY_RETRY]--;
	all = half_open(l, from, &from_ip);
	if (from_ip >= PER_ADDRESS) {
		count_away(l, AWAY_SOURCE);
		return FALSE;
	}
	if (all >= MAX_HALF_OPEN) {
		count_away(l, AWAY_FULL);
		return FALSE;
	}
	return TRUE;
}

static gboolean
on_listen_socket(int fd, GIOCondition cond, gpointer ud)
{
	ListenSocket *ls = ud;
	Listen *l = ls->l;
	uint8_t buf[65536];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from, local = ls->addr;
		socklen_t from_len, local_len = ls->addr_len;
		size_t seg;
		ssize_t n = udp_recv(fd, buf, sizeof(buf), &seg, &from,
		    &from_len, &local, &local_len);
		char key[ADDR_KEY_LEN];
		g_autoptr(GError) error = NULL;
		QuicAddrProof proof;
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
		if ((v = g_hash_table_lookup(l->viewers, key)) != NULL) {
			/* GRO may have joined several datagrams. */
			for (off = 0; off < n; off += seg)
				quic_conn_recv(v->qc, buf + off, MIN((ssize_t)seg, n - off));
			continue;
		}
		if (!admit_first(l, fd, buf, MIN((ssize_t)seg, n), &from,
		    from_len, &local, &proof))
			continue;
		v = g_new0(Viewer, 1);
		v->l = l;
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
		g_hash_table_insert(l->viewers, v->key, v);
		v->qc = viewer_quic(v, NULL, &proof, buf, MIN((ssize_t)seg, n),
		    &error);
		if (v->qc == NULL) {
			log_debug("ignoring a datagram from %s: %s", v->name,
			    error->message);
			g_hash_table_remove(l->viewers, v->key);
			continue;
		}
		for (off = seg; off < n; off += seg)
			quic_conn_recv(v->qc, buf + off, MIN((ssize_t)seg, n - off));
	}
	return G_SOURCE_CONTINUE;
}

/* --- listen: viewers through the rendezvous and ICE ---------------------- */

#define MAX_PENDING 32
#define ICE_SETUP_S 30

static gboolean
ice_viewer_remove(gpointer p)
{
	Viewer *v = p;
	Listen *l = v->l;

	v->ice_timer = 0;
	if (v->qc == NULL && l->n_pending > 0)
		l->n_pending--;
	g_hash_table_remove(l->viewers, v->key);
	viewers_trim(l);
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
	tunnel_publish(v->l->t, v->l->rv, v->reply, &m);
}

static void
host_ice_gathered(IceLink *l, void *ud)
{
	Viewer *v = ud;
	SignalingMsg m = { .type = SIGNALING_DONE };

	strcpy(m.session, v->session);
	tunnel_publish(v->l->t, v->l->rv, v->reply, &m);
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
	Viewer *v = ud;
	g_autoptr(GError) error = NULL;

	if (v->gone)
		return;
	if (v->qc != NULL) {
		quic_conn_recv(v->qc, pkt, len);
		return;
	}
	v->qc = viewer_quic(v, v->peer_fp, NULL, pkt, len, &error);
	if (v->qc == NULL) {
		log_debug("viewer %s: ignoring a datagram: %s", v->name,
		    error->message);
		return;
	}
	if (v->l->n_pending > 0)
		v->l->n_pending--;
	if (v->ice_timer != 0)
		g_source_remove(v->ice_timer);
	v->ice_timer = 0;
}

static void
host_offer(Listen *l, const SignalingMsg *m)
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

	if (g_hash_table_contains(l->sessions, m->session))
		return;		/* sent again while the answer travelled */
	if (l->t->max_viewers > 0 && l->n_admitted >= l->t->max_viewers) {
		SignalingMsg f = { .type = SIGNALING_FULL };
		char name[16];

		strcpy(f.session, m->session);
		snprintf(f.text, sizeof(f.text), "%u/%u", l->n_admitted,
		    l->t->max_viewers);
		snprintf(name, sizeof(name), "ice-%.8s", m->session);
		log_info("viewer %s refused: host is full (%s viewers)", name,
		    f.text);
		status_event("viewer-refused", "id", name, "reason", "full",
		    NULL);
		tunnel_publish(l->t, l->rv, m->reply, &f);
		return;
	}
	if (l->n_pending >= MAX_PENDING) {
		log_debug("offer dropped: %u viewers setting up already",
		    l->n_pending);
		return;
	}
	if (!offer_rate_ok(l)) {
		log_debug("offer dropped: more than 10 new viewers a second");
		return;
	}
	v = g_new0(Viewer, 1);
	v->l = l;
	v->fd = -1;
	strcpy(v->session, m->session);
	strcpy(v->reply, m->reply);
	memcpy(v->peer_fp, m->fp, 32);
	v->name = g_strdup_printf("ice-%.8s", m->session);
	v->key = g_strconcat("ice|", m->session, NULL);
	tunnel_ice_sockaddr(&v->local, &v->local_len, 1);
	tunnel_ice_sockaddr(&v->remote, &v->remote_len, 2);
	v->ice = ice_link_new(FALSE, &l->t->stun, &l->t->turn, &iev, v);
	g_hash_table_insert(l->viewers, v->key, v);
	g_hash_table_insert(l->sessions, v->session, v);
	l->n_pending++;
	v->ice_timer = g_timeout_add_seconds(ICE_SETUP_S, on_ice_setup_timeout, v);
	log_debug("viewer %s: offer through the rendezvous", v->name);

	/* The answer first, so that it reaches the viewer before our
	 * candidates (one publisher, one topic: in order). */
	ice_link_credentials(v->ice, &u, &p);
	strcpy(a.session, m->session);
	a.has_fp = quic_cert_fingerprint(a.fp);
	g_strlcpy(a.ufrag, u, sizeof(a.ufrag));
	g_strlcpy(a.pwd, p, sizeof(a.pwd));
	if (l->t->turn.url != NULL)
		g_strlcpy(a.turn, l->t->turn.url, sizeof(a.turn));
	tunnel_publish(l->t, l->rv, v->reply, &a);
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
	Listen *l = ud;
	SignalingMsg m;
	Viewer *v;

	if (!signaling_open_msg(&l->t->sig, data, len, &m)) {
		log_debug("rendezvous: a message that is not for us (%zu bytes), ignored",
		    len);
		count_ignored(l);
		return;
	}
	if (m.type == SIGNALING_OFFER) {
		host_offer(l, &m);
		return;
	}
	if ((v = g_hash_table_lookup(l->sessions, m.session)) == NULL ||
	    v->ice == NULL)
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
	Listen *l = ud;

	if (up && l->rendezvous_down)
		log_info("rendezvous %s is back", rendezvous_url(r));
	else if (!up && !l->rendezvous_down)
		log_info("lost the rendezvous %s (%s); reconnecting, viewers already connected are not affected",
		    rendezvous_url(r), why ? why : "disconnected");
	l->rendezvous_down = !up;
}

/* Connects to the first broker that answers; NULL for --rendezvous none.
 * Exits 69 naming them when none does. */
static Rendezvous *
host_rendezvous(Listen *l)
{
	static const RendezvousEvents ev = {
		.message = on_host_message,
		.state = on_host_rendezvous,
	};
	const char *const *urls = tunnel_setting(l->t, l->t->rendezvous,
	    "rendezvous", tunnel_default_rendezvous);
	g_autoptr(GString) errs = g_string_new(NULL);

	if (urls[0] != NULL && strcmp(urls[0], "none") == 0)
		return NULL;
	for (const char *const *u = urls; *u != NULL; u++) {
		g_autoptr(GError) error = NULL;
		Rendezvous *r = rendezvous_new(*u, l->t->rendezvous_ca, &ev, l,
		    &error);

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
	Listen *l = ud;
	GHashTableIter it;
	gpointer k, val;

	g_hash_table_iter_init(&it, l->viewers);
	while (g_hash_table_iter_next(&it, &k, &val)) {
		Viewer *v = val;

		if (!v->gone && v->qc != NULL)
			quic_conn_close(v->qc, QUIC_APP_STOPPED, "the host stopped");
	}
	g_hash_table_iter_init(&it, l->children);
	while (g_hash_table_iter_next(&it, &k, &val))
		kill(-GPOINTER_TO_INT(k), SIGTERM);
	g_main_loop_quit(l->loop);
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

/* --ticket-file, opened before we confine ourselves and written once the
 * ticket is known; -1 without one. Only a regular file of ours with one
 * name: a symbolic link or a hard link someone planted there is refused,
 * never followed to truncate what it points at. */
static int
open_ticket_file(const char *path)
{
	struct stat st;
	int fd;

	if (path == NULL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 && errno == ELOOP)
		errx(EX_CANTCREAT, "%s is a symbolic link: give the ticket file a name of its own", path);
	if (fd == -1)
		err(EX_CANTCREAT, "%s", path);
	if (fstat(fd, &st) == -1)
		err(EX_CANTCREAT, "%s", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1)
		errx(EX_CANTCREAT, "%s is not a file of ours with one name: give the ticket file a name of its own", path);
	if (fchmod(fd, 0600) == -1)
		err(EX_CANTCREAT, "%s", path);
	return fd;
}

int
tunnel_listen(Tunnel *tun, char **cmd_argv)
{
	g_autoptr(GError) error = NULL;
	Listen l = { .t = tun, .cmd_argv = cmd_argv, .tokens = 20 };
	Ticket t = { 0 };
	g_autofree char *ticket = NULL;
	uint16_t port = tun->port;
	int fd4 = -1, fd6 = -1, save = 0, status, ticket_fd;
	char nport[8];
	ListenSocket lsock[2] = { { .l = &l }, { .l = &l } };

	/* Before any thread: the fork copies only ours. */
	if ((l.spawner = spawner_new(on_child, &l, &error)) == NULL)
		errx(EX_OSERR, "%s", error->message);
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
	gather_addrs(&t, fd4 >= 0, fd6 >= 0);
	l.viewers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	    viewer_free);
	l.sessions = g_hash_table_new(g_str_hash, g_str_equal);
	l.children = g_hash_table_new_full(NULL, NULL, NULL,
	    (GDestroyNotify)lastline_free);
	tunnel_network_settings(tun);
	tunnel_keys(tun, &t);
	ticket_fd = open_ticket_file(tun->ticket_file);
	/* Before the rendezvous' thread and GLib's signal worker exist. */
	tunnel_confine(tun);
	if ((l.rv = host_rendezvous(&l)) == NULL)
		strcpy(t.rendezvous, "none");
	else {
		if ((status = tunnel_ice_servers(tun)) != 0)
			exit(status);
		/* The ticket names the broker unless it is the default. */
		if (strcmp(rendezvous_url(l.rv), tunnel_default_rendezvous[0]) != 0 &&
		    g_strlcpy(t.rendezvous, rendezvous_url(l.rv),
		    sizeof(t.rendezvous)) >= sizeof(t.rendezvous))
			errx(EX_USAGE, "rendezvous URL too long for a ticket (at most %d characters)",
			    TICKET_MAX_URL);
		rendezvous_subscribe(l.rv, tun->topic);
	}
	if ((ticket = ticket_encode(&t)) == NULL)
		errx(EX_USAGE, "the ticket cannot hold this rendezvous URL; use a shorter one");

	if (ticket_fd >= 0 && (ftruncate(ticket_fd, 0) == -1 ||
	    dprintf(ticket_fd, "%s\n", ticket) < 0 || close(ticket_fd) == -1))
		err(EX_CANTCREAT, "%s", tun->ticket_file);
	printf("%s\n", ticket);
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");

	log_info("listening on UDP port %u (%s%s%s); %u addresses in the ticket",
	    t.port, fd4 >= 0 ? "IPv4" : "", fd4 >= 0 && fd6 >= 0 ? " and " : "",
	    fd6 >= 0 ? "IPv6" : "", t.n_addrs);
	if (l.rv != NULL)
		log_info("rendezvous %s%s%s%s%s", rendezvous_url(l.rv),
		    tun->stun.host ? ", STUN " : "",
		    tun->stun.host ? tun->stun.host : "",
		    tun->turn.url ? ", TURN over " : "",
		    tun->turn.url ? ice_turn_transport_name(tun->turn.transport) : "");
	l.loop = g_main_loop_new(NULL, FALSE);
	for (int i = 0; i < 2; i++) {
		int fd = i == 0 ? fd4 : fd6;

		if (fd < 0)
			continue;
		if (udp_local(fd, &lsock[i].addr, &lsock[i].addr_len) == -1)
			err(EX_OSERR, "the listening socket");
		g_unix_fd_add(fd, G_IO_IN, on_listen_socket, &lsock[i]);
	}
	g_unix_signal_add(SIGINT, on_listen_stop, &l);
	g_unix_signal_add(SIGTERM, on_listen_stop, &l);
	snprintf(nport, sizeof(nport), "%u", t.port);
	status_event("ready", "ticket", ticket, "port", nport, NULL);
	g_main_loop_run(l.loop);
	g_hash_table_destroy(l.viewers);
	g_hash_table_destroy(l.sessions);
	l.sessions = NULL;
	g_hash_table_destroy(l.children);
	spawner_free(l.spawner);
	if (l.ignored_timer != 0)
		g_source_remove(l.ignored_timer);
	if (l.away_timer != 0)
		g_source_remove(l.away_timer);
	rendezvous_free(l.rv);
	g_main_loop_unref(l.loop);
	return 0;
}
