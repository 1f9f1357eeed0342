/*
 * pp-tunnel connect: the viewer. It sends to every direct address in the
 * ticket at once and takes the first that answers; when none does, or the
 * ticket has no address, it sends a sealed offer through the rendezvous
 * and runs QUIC over the ICE link that the answer sets up. The host's
 * stream goes to stdout, stdin to the host.
 *
 * Every way this can end goes through connect_end, which keeps the exit
 * status and quits the loop: the teardown after the loop is the only one.
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "tunnel.h"
#include "udp.h"

/* the direct path's turn, when there is ICE: an answer takes one RTT */
#define DIRECT_MS 1000

typedef struct Connect Connect;

/* One of the host's direct addresses, tried at once with the others. */
typedef struct {
	Connect *c;
	int fd;
	guint watch;
	QuicConn *qc;
	char *name;
	struct sockaddr_storage remote;
	gboolean refused;
	UdpBatch out;
} Cand;

/* The viewer's state, from tunnel_connect's start to its teardown. */
struct Connect {
	Tunnel *t;
	GMainLoop *loop;
	gboolean over;		/* connect_end was called */
	int status;		/* the exit status, once over */
	gboolean connected;
	int saved_fl[2];	/* stdin's and stdout's flags, to restore */

	/* The direct path. */
	Cand cands[TICKET_MAX_ADDRS];
	guint n_cands;
	Cand *winner;		/* the first address that answered */
	GString *tried;		/* the addresses, for messages */

	/* Through the rendezvous and ICE. */
	gboolean ice_possible;	/* the ticket has a rendezvous */
	char url[TICKET_MAX_URL + 1];
	Rendezvous *rv;
	char session[SIGNALING_SESSION_LEN + 1];
	char reply[129];
	IceLink *ice;
	QuicConn *ice_qc;
	uint8_t host_fp[32];
	gboolean ice_started, answered, relay_offered;
	guint offer_timer;
	IceTurn host_turn;
	char *path;		/* the selected pair, in words */
};

static void start_ice(Connect *c);

/* The end: the status kept, the message (when there is one) on stderr,
 * reason (a word) in the ended event, the loop quit. Only the first end counts: a connection that
 * ends may report more as it goes. */
static void G_GNUC_PRINTF(4, 5)
connect_end(Connect *c, int status, const char *reason, const char *fmt, ...)
{
	va_list ap;
	char n[8];

	if (c->over)
		return;
	c->over = TRUE;
	c->status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	snprintf(n, sizeof(n), "%d", status);
	status_event("ended", "status", n, "reason", reason, NULL);
	g_main_loop_quit(c->loop);
}

static void
cand_send(void *ctx, const uint8_t *pkt, size_t len)
{
	Cand *k = ctx;

	if (k->fd >= 0)
		udp_batch_add(&k->out, pkt, len);
}

static void
cand_flush(void *ctx)
{
	Cand *k = ctx;

	if (k->fd >= 0)
		udp_batch_flush(&k->out);
}

static void
cand_drop(Cand *k)
{
	if (k->qc != NULL) {
		quic_conn_close(k->qc, QUIC_APP_OK, "another address answered first");
		quic_conn_free(k->qc);
	}
	k->qc = NULL;
	if (k->watch != 0)
		g_source_remove(k->watch);
	k->watch = 0;
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

static gboolean
on_cand_socket(int fd, GIOCondition cond, gpointer ud)
{
	Cand *k = ud;
	Connect *c = k->c;
	uint8_t buf[65536];

	for (int i = 0; i < 64 && k->fd >= 0 && !c->over; i++) {
		struct sockaddr_storage from;
		socklen_t from_len;
		size_t seg;
		ssize_t n = udp_recv(fd, buf, sizeof(buf), &seg, &from,
		    &from_len, NULL, NULL);

		if (n == -1) {
			if (errno == ECONNREFUSED && c->winner == NULL) {
				/* Nothing listens there (ICMP port
				 * unreachable): when that is true of every
				 * address, there is no point waiting. */
				guint refused = 0;

				k->refused = TRUE;
				for (guint j = 0; j < c->n_cands; j++)
					refused += c->cands[j].refused;
				if (refused == c->n_cands && !c->ice_possible) {
					connect_end(c, EX_UNAVAILABLE, "no-host",
					    "no pp-tunnel host is listening at %s; is the host still running?",
					    c->tried->str);
					break;
				}
				if (refused == c->n_cands)
					start_ice(c);
				continue;
			}
			break;
		}
		if (c->winner == NULL) {
			/* The first address that answers is the path. */
			c->winner = k;
			for (guint j = 0; j < c->n_cands; j++)
				if (&c->cands[j] != k)
					cand_drop(&c->cands[j]);
		}
		for (ssize_t off = 0; off < n && k == c->winner && k->qc != NULL;
		    off += seg)
			quic_conn_recv(k->qc, buf + off, MIN((ssize_t)seg, n - off));
	}
	return G_SOURCE_CONTINUE;
}

static void
attach_stdio(Connect *c, QuicConn *qc)
{
	int in, out;

	c->connected = TRUE;
	c->saved_fl[0] = fcntl(0, F_GETFL);
	c->saved_fl[1] = fcntl(1, F_GETFL);
	/* Not the fds themselves: closing a copy when one direction ends
	 * leaves fds 0 and 1 for the teardown to restore. */
	in = dup(0);
	out = dup(1);
	if (out == -1) {
		connect_end(c, EX_OSERR, "error", "stdout: %s", g_strerror(errno));
		return;
	}
	quic_conn_attach(qc, in, out);
}

static void
on_connect_ready(QuicConn *qc, void *ud)
{
	Cand *k = ud;
	const char *family = tunnel_family_name((struct sockaddr *)&k->remote);
	char rtt[32];

	snprintf(rtt, sizeof(rtt), "%.1f", quic_conn_rtt_ms(qc));
	log_info("connected to %s (path direct, %s, RTT %s ms)", k->name,
	    family, rtt);
	status_event("connected", "path", "direct", "addr", k->name,
	    "family", family, "rtt_ms", rtt, "via", "direct", NULL);
	attach_stdio(k->c, qc);
}

static void
connection_ended(Connect *c, const char *name, const QuicEnd *end)
{
	switch (end->kind) {
	case QUIC_END_DONE:
	case QUIC_END_LOCAL:
		connect_end(c, 0, "done", NULL);
		return;
	case QUIC_END_PEER:
		switch (end->app_code) {
		case QUIC_APP_FULL:
			connect_end(c, EX_TEMPFAIL, "full",
			    "host is full (%s viewers); try again later",
			    end->reason);
			return;
		case QUIC_APP_REFUSED:
			connect_end(c, EX_NOPERM, "refused",
			    "the host refused this ticket's secret; ask the host for its current ticket");
			return;
		case QUIC_APP_STOPPED:
			connect_end(c, 0, "stopped", "the host stopped sharing");
			return;
		case QUIC_APP_HOST_FAILED:
			connect_end(c, EX_UNAVAILABLE, "host-failed",
			    "the host's stream failed: %s",
			    end->reason[0] != '\0' ? end->reason : "no reason given");
			return;
		case QUIC_APP_OK:
			connect_end(c, EX_UNAVAILABLE, "closed",
			    "the host closed the connection before the end of the stream");
			return;
		default:
			connect_end(c, EX_UNAVAILABLE, "closed",
			    "the host closed the connection (error 0x%llx: %s)",
			    (unsigned long long)end->app_code, end->reason);
			return;
		}
	case QUIC_END_PROOF:
		/* With a wrong secret, a refusal from the real host cannot
		 * be told from one by an impostor: neither proves it. */
		if (end->app_code == QUIC_APP_REFUSED)
			connect_end(c, EX_NOPERM, "refused",
			    "the host refused this ticket's secret, or it is not the host (it did not prove the secret either); ask the host for its current ticket");
		else
			connect_end(c, EX_NOPERM, "proof",
			    "the host at %s did not prove it holds this ticket's secret; not trusting it",
			    name);
		return;
	case QUIC_END_CERT:
		connect_end(c, EX_NOPERM, "cert",
		    "the host's certificate is not the one its sealed answer named; not trusting this path");
		return;
	case QUIC_END_IDLE:
		connect_end(c, EX_UNAVAILABLE, "idle",
		    "lost the connection to %s: no packet for %u s", name,
		    c->t->idle_ms / 1000);
		return;
	case QUIC_END_HANDSHAKE:
		connect_end(c, EX_UNAVAILABLE, "handshake",
		    "the host at %s answered but the handshake did not finish",
		    name);
		return;
	case QUIC_END_ERROR:
		connect_end(c, EX_UNAVAILABLE, "error",
		    "the connection to %s failed: %s", name, end->reason);
		return;
	}
	connect_end(c, EX_SOFTWARE, "error", "unknown end of connection");
}

static void
on_connect_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	Cand *k = ud;

	if (k == k->c->winner)
		connection_ended(k->c, k->name, end);
}

/* --- through the rendezvous and ICE -------------------------------------- */

static void
send_offer(Connect *c)
{
	SignalingMsg m = { .type = SIGNALING_OFFER };
	const char *u, *p;

	strcpy(m.session, c->session);
	strcpy(m.reply, c->reply);
	m.has_fp = quic_cert_fingerprint(m.fp);
	ice_link_credentials(c->ice, &u, &p);
	g_strlcpy(m.ufrag, u, sizeof(m.ufrag));
	g_strlcpy(m.pwd, p, sizeof(m.pwd));
	tunnel_publish(c->t, c->rv, c->t->topic, &m);
}

static gboolean
on_offer_timer(gpointer ud)
{
	Connect *c = ud;

	/* Again until answered: the host may have been reconnecting. */
	if (c->answered) {
		c->offer_timer = 0;
		return G_SOURCE_REMOVE;
	}
	send_offer(c);
	return G_SOURCE_CONTINUE;
}

static void
no_path(Connect *c, const char *why)
{
	g_autofree char *sum = c->ice ? ice_link_summary(c->ice) :
	    g_strdup("no candidates");

	if (!c->answered)
		connect_end(c, EX_UNAVAILABLE, "no-answer",
		    "no answer from the host through the rendezvous %s within %u s; is the host running (it may have stopped, or uses another rendezvous)?",
		    c->url, c->t->timeout_s);
	else if (c->t->turn.url == NULL && !c->relay_offered)
		connect_end(c, EX_UNAVAILABLE, "no-path",
		    "no path to the host %s (%s; direct: %s); no TURN server was given: %s; give one with --turn turn://USER:PASS@HOST:PORT on either side, or the turn key of config.toml (a self-hosted coturn will do: see pp-tunnel(1))",
		    why, sum, c->tried->str,
		    c->ice != NULL ? ice_link_no_relay_cause(c->ice) :
		    "both sides' NATs seem to need a relay");
	else if (c->ice != NULL && ice_link_relay_error(c->ice) != NULL)
		connect_end(c, EX_UNAVAILABLE, "no-path",
		    "no path to the host %s (%s; direct: %s); no relay: %s",
		    why, sum, c->tried->str, ice_link_relay_error(c->ice));
	else
		connect_end(c, EX_UNAVAILABLE, "no-path",
		    "no path to the host %s (%s; direct: %s), even through the TURN server; is UDP or TCP to it blocked?",
		    why, sum, c->tried->str);
}

static void
ice_quic_send(void *ctx, const uint8_t *pkt, size_t len)
{
	Connect *c = ctx;

	ice_link_send(c->ice, pkt, len);
}

static void
on_ice_ready(QuicConn *qc, void *ud)
{
	Connect *c = ud;
	IcePathKind kind;
	int relay_transport;
	char rtt[32];

	g_free(c->path);
	kind = ice_link_path(c->ice, &relay_transport, &c->path);
	snprintf(rtt, sizeof(rtt), "%.1f", quic_conn_rtt_ms(qc));
	log_info("connected through the rendezvous %s (path %s, RTT %s ms)",
	    c->url, c->path, rtt);
	status_event("connected", "path", tunnel_path_word(kind),
	    "addr", tunnel_path_peer(c->path),
	    "family", tunnel_path_family(c->path), "rtt_ms", rtt,
	    "via", "rendezvous", NULL);
	attach_stdio(c, qc);
}

static void
on_ice_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	connection_ended(ud, "the host", end);
}

static void
on_ice_connected(IceLink *l, void *ud)
{
	Connect *c = ud;
	g_autoptr(GError) error = NULL;
	struct sockaddr_storage local, remote;
	socklen_t llen, rlen;
	QuicConfig cfg;

	tunnel_ice_sockaddr(&local, &llen, 2);
	tunnel_ice_sockaddr(&remote, &rlen, 1);
	/* The certificate the sealed answer named. */
	cfg = tunnel_quic_config(c->t, FALSE, (struct sockaddr *)&local, llen,
	    (struct sockaddr *)&remote, rlen, c->host_fp);
	cfg.io = (QuicIO){ ice_quic_send, NULL, c };
	cfg.ev = (QuicEvents){ .ready = on_ice_ready, .ended = on_ice_ended };
	cfg.ud = c;
	if ((c->ice_qc = quic_conn_new_client(&cfg, &error)) == NULL)
		connect_end(c, EX_SOFTWARE, "error", "%s", error->message);
}

static void
on_ice_failed(IceLink *l, void *ud)
{
	no_path(ud, "(every candidate pair failed)");
}

static void
on_ice_recv(IceLink *l, const uint8_t *pkt, size_t len, void *ud)
{
	Connect *c = ud;

	if (c->ice_qc != NULL)
		quic_conn_recv(c->ice_qc, pkt, len);
}

static void
on_ice_candidate(IceLink *l, const char *sdp, void *ud)
{
	Connect *c = ud;
	SignalingMsg m = { .type = SIGNALING_CANDIDATE };

	strcpy(m.session, c->session);
	g_strlcpy(m.text, sdp, sizeof(m.text));
	tunnel_publish(c->t, c->rv, c->t->topic, &m);
}

static void
on_ice_gathered(IceLink *l, void *ud)
{
	Connect *c = ud;
	SignalingMsg m = { .type = SIGNALING_DONE };

	strcpy(m.session, c->session);
	tunnel_publish(c->t, c->rv, c->t->topic, &m);
}

static void
on_answer(Connect *c, const SignalingMsg *m)
{
	g_autoptr(GError) error = NULL;

	if (c->answered)
		return;
	c->answered = TRUE;
	memcpy(c->host_fp, m->fp, 32);
	/* Our own TURN server first, else the host's. */
	if (c->t->turn.url == NULL && m->turn[0] != '\0') {
		if (ice_parse_turn(m->turn, &c->host_turn, &error)) {
			/* turns://: verified with our own CAs. */
			c->host_turn.ca_file = g_strdup(c->t->turn_ca);
			ice_link_set_turn(c->ice, &c->host_turn);
			c->relay_offered = TRUE;
		} else
			warnx("the host's TURN server: %s; going on without it",
			    error->message);
		g_clear_error(&error);
	}
	if (!ice_link_start(c->ice, m->ufrag, m->pwd, &error))
		connect_end(c, EX_UNAVAILABLE, "error", "%s", error->message);
}

static void
on_viewer_message(Rendezvous *r, const char *topic, const uint8_t *data,
    size_t len, void *ud)
{
	Connect *c = ud;
	SignalingMsg m;

	if (c->over || !signaling_open_msg(&c->t->sig, data, len, &m) ||
	    strcmp(m.session, c->session) != 0)
		return;
	switch (m.type) {
	case SIGNALING_FULL:
		connect_end(c, EX_TEMPFAIL, "full",
		    "host is full (%s viewers); try again later", m.text);
		return;
	case SIGNALING_ANSWER:
		on_answer(c, &m);
		return;
	case SIGNALING_CANDIDATE:
		if (!ice_link_add_remote(c->ice, m.text))
			log_debug("a candidate from the host that does not parse");
		return;
	case SIGNALING_DONE:
		ice_link_remote_done(c->ice);
		return;
	default:
		return;
	}
}

static gboolean
no_path_timeout(gpointer ud)
{
	Connect *c = ud;

	if (!c->connected) {
		g_autofree char *why = g_strdup_printf("within %u s",
		    c->t->timeout_s);

		no_path(c, why);
	}
	return G_SOURCE_REMOVE;
}

static void
start_ice(Connect *c)
{
	static const RendezvousEvents rev = { .message = on_viewer_message };
	static const IceEvents iev = {
		.candidate = on_ice_candidate,
		.gathered = on_ice_gathered,
		.connected = on_ice_connected,
		.failed = on_ice_failed,
		.recv = on_ice_recv,
	};
	g_autoptr(GError) error = NULL;
	char suffix[33];
	int status;

	if (c->ice_started || c->winner != NULL || c->over)
		return;
	c->ice_started = TRUE;
	for (guint k = 0; k < c->n_cands; k++)
		cand_drop(&c->cands[k]);
	if ((status = tunnel_ice_servers(c->t)) != 0) {
		connect_end(c, status, "usage", NULL);
		return;
	}
	log_debug("no direct answer; through the rendezvous %s", c->url);
	if ((c->rv = rendezvous_new(c->url, c->t->rendezvous_ca, &rev, c,
	    &error)) == NULL) {
		connect_end(c, EX_USAGE, "usage", "%s", error->message);
		return;
	}
	if (!rendezvous_connect(c->rv, MIN(c->t->timeout_s, RENDEZVOUS_TIMEOUT_S),
	    &error)) {
		connect_end(c, EX_UNAVAILABLE, "no-rendezvous",
		    "%s (the host's direct addresses did not answer: %s)",
		    error->message, c->tried->str);
		return;
	}
	signaling_random_hex(c->session, SIGNALING_SESSION_LEN / 2);
	signaling_random_hex(suffix, 16);
	snprintf(c->reply, sizeof(c->reply), "%s/%s", c->t->topic, suffix);
	rendezvous_subscribe(c->rv, c->reply);
	c->ice = ice_link_new(TRUE, &c->t->stun, &c->t->turn, &iev, c);
	send_offer(c);
	c->offer_timer = g_timeout_add_seconds(3, on_offer_timer, c);
	g_timeout_add_seconds(c->t->timeout_s, no_path_timeout, c);
}

/* --- the direct path's timers, signals, and the whole ---------------------- */

static gboolean
on_direct_timeout(gpointer ud)
{
	Connect *c = ud;

	if (c->winner == NULL)
		start_ice(c);
	return G_SOURCE_REMOVE;
}

static gboolean
on_connect_timeout(gpointer ud)
{
	Connect *c = ud;

	if (c->connected || c->ice_started)
		return G_SOURCE_REMOVE;
	if (c->winner != NULL)
		connect_end(c, EX_UNAVAILABLE, "timeout",
		    "the host at %s answered but the connection was not set up within %u s",
		    c->winner->name, c->t->timeout_s);
	else
		connect_end(c, EX_UNAVAILABLE, "timeout",
		    "no answer within %u s from the host's addresses: %s; is the host running and reachable?",
		    c->t->timeout_s, c->tried->str);
	return G_SOURCE_REMOVE;
}

static gboolean
on_connect_stop(gpointer ud)
{
	Connect *c = ud;

	connect_end(c, 0, "signal", NULL);
	if (c->winner != NULL && c->winner->qc != NULL)
		quic_conn_close(c->winner->qc, QUIC_APP_OK, "the viewer left");
	return G_SOURCE_REMOVE;
}

/* Sends a first packet to every direct address at once. */
static void
start_direct(Connect *c, const Ticket *t)
{
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < t->n_addrs; i++) {
		Cand *k = &c->cands[c->n_cands];
		struct sockaddr_storage local;
		socklen_t rlen, llen;
		QuicConfig cfg;

		k->c = c;
		rlen = ticket_sockaddr(t, i, &k->remote);
		k->name = ticket_addr_string(t, i);
		if (c->tried->len > 0)
			g_string_append(c->tried, ", ");
		g_string_append(c->tried, k->name);
		k->fd = udp_connect((struct sockaddr *)&k->remote, rlen, &local,
		    &llen);
		if (k->fd == -1) {
			g_string_append_printf(c->tried, " (%s)", g_strerror(errno));
			g_clear_pointer(&k->name, g_free);
			continue;
		}
		cfg = tunnel_quic_config(c->t, FALSE, (struct sockaddr *)&local,
		    llen, (struct sockaddr *)&k->remote, rlen, NULL);
		cfg.io = (QuicIO){ cand_send, cand_flush, k };
		cfg.ev = (QuicEvents){
			.ready = on_connect_ready,
			.ended = on_connect_ended,
		};
		cfg.ud = k;
		k->out.fd = k->fd;
		k->watch = g_unix_fd_add(k->fd, G_IO_IN, on_cand_socket, k);
		c->n_cands++;
		k->qc = quic_conn_new_client(&cfg, &error);
		if (k->qc == NULL)
			errx(EX_SOFTWARE, "%s", error->message);
	}
}

int
tunnel_connect(Tunnel *tun, const char *text)
{
	g_autoptr(GError) error = NULL;
	Connect *c = g_new0(Connect, 1);
	Ticket t;
	int status;

	c->t = tun;
	c->saved_fl[0] = c->saved_fl[1] = -1;
	tunnel_ticket_check(text, &t);
	tunnel_network_settings(tun);
	tunnel_keys(tun, &t);
	/* The rendezvous: ours if given, else the ticket's, else the default. */
	if (tun->rendezvous != NULL)
		g_strlcpy(c->url, tun->rendezvous, sizeof(c->url));
	else if (t.rendezvous[0] != '\0')
		g_strlcpy(c->url, t.rendezvous, sizeof(c->url));
	else
		g_strlcpy(c->url, tunnel_setting(tun, NULL, "rendezvous",
		    tunnel_default_rendezvous)[0], sizeof(c->url));
	c->ice_possible = strcmp(c->url, "none") != 0;
	if (t.n_addrs == 0 && !c->ice_possible)
		errx(EX_UNAVAILABLE, "the ticket has no direct address and no rendezvous");
	if (!quic_init(&error))
		errx(EX_SOFTWARE, "%s", error->message);
	c->loop = g_main_loop_new(NULL, FALSE);
	c->tried = g_string_new(NULL);
	/* Before the rendezvous' thread and GLib's signal worker exist. */
	tunnel_confine(tun);

	/* Every address at once; the first that answers wins. */
	start_direct(c, &t);
	if (c->n_cands == 0 && !c->ice_possible)
		errx(EX_UNAVAILABLE, "cannot send to any of the host's addresses: %s",
		    c->tried->str);
	if (getenv("PP_TUNNEL_NO_DIRECT") != NULL && c->ice_possible)
		start_ice(c);
	else if (c->n_cands == 0)
		start_ice(c);
	else if (c->ice_possible)
		g_timeout_add(MIN(DIRECT_MS, tun->timeout_s * 1000),
		    on_direct_timeout, c);
	else
		g_timeout_add_seconds(tun->timeout_s, on_connect_timeout, c);
	g_unix_signal_add(SIGINT, on_connect_stop, c);
	g_unix_signal_add(SIGTERM, on_connect_stop, c);
	/* A start_ice that failed has ended it already. */
	if (!c->over)
		g_main_loop_run(c->loop);

	/* O_NONBLOCK belongs to the open file, which a shell may share. */
	for (int i = 0; i < 2; i++)
		if (c->saved_fl[i] != -1)
			fcntl(i, F_SETFL, c->saved_fl[i]);
	/* Nothing more to the host: whatever ended it has said so. */
	for (guint i = 0; i < c->n_cands; i++) {
		Cand *k = &c->cands[i];

		if (k->watch != 0)
			g_source_remove(k->watch);
		quic_conn_free(k->qc);
		if (k->fd >= 0)
			close(k->fd);
		g_free(k->name);
	}
	quic_conn_free(c->ice_qc);
	ice_link_free(c->ice);
	rendezvous_free(c->rv);
	ice_turn_clear(&c->host_turn);
	g_free(c->path);
	g_string_free(c->tried, TRUE);
	g_main_loop_unref(c->loop);
	status = c->status;
	g_free(c);
	return status;
}
