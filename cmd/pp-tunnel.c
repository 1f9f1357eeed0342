/*
 * pp-tunnel: an encrypted byte pipe between two machines, addressed by a
 * ticket. "listen" runs a command per authenticated viewer with the stream
 * on its stdin and stdout; "connect" joins a host's stream to stdio.
 * QUIC (ngtcp2, TLS 1.3, BBR) over UDP on the host's direct addresses.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib-unix.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "keys.h"
#include "log.h"
#include "quic.h"
#include "spawn.h"
#include "ticket.h"
#include "udp.h"

static guint max_viewers;	/* --max-viewers: 0 means no limit */
static uint16_t port;		/* --port: 0 means any free port */
static const char *ticket_file;	/* --ticket-file */
static guint timeout_s = 10;	/* --timeout */
static guint idle_ms = 30000;	/* PP_TUNNEL_IDLE_TIMEOUT, in seconds */

static GMainLoop *loop;
static uint8_t proof_key[KEYS_LEN];

static void G_GNUC_NORETURN
usage(void)
{
	fprintf(stderr,
	    "usage: pp-tunnel listen [--max-viewers N] [--port P] [--rendezvous none]\n"
	    "                        [--ticket-file F] -- CMD [ARG ...]\n"
	    "       pp-tunnel connect TICKET [--timeout S]\n");
	exit(EX_USAGE);
}

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
} Viewer;

static GHashTable *viewers;	/* "remote|local" -> Viewer */
static GHashTable *children;	/* pid -> pid, the CMDs running */
static char **cmd_argv;
static guint n_admitted;

static void
viewer_send(void *ctx, const uint8_t *pkt, size_t len)
{
	Viewer *v = ctx;

	udp_batch_add(&v->out, pkt, len);
}

static void
viewer_flush(void *ctx)
{
	Viewer *v = ctx;

	udp_batch_flush(&v->out);
}

static void
viewer_free(gpointer p)
{
	Viewer *v = p;

	quic_conn_free(v->qc);
	g_free(v->name);
	g_free(v->key);
	g_free(v);
}

static gboolean
viewer_remove(gpointer p)
{
	Viewer *v = p;

	g_hash_table_remove(viewers, v->key);
	return G_SOURCE_REMOVE;
}

static void
on_handshake(QuicConn *qc, void *ud)
{
	Viewer *v = ud;

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

static void
on_child(GPid pid, gint status, gpointer ud)
{
	g_autoptr(GError) error = NULL;

	if (!g_spawn_check_wait_status(status, &error))
		log_debug("command %d: %s", pid, error->message);
	g_hash_table_remove(children, GINT_TO_POINTER(pid));
	g_spawn_close_pid(pid);
}

static void
on_viewer_ready(QuicConn *qc, void *ud)
{
	Viewer *v = ud;
	g_autoptr(GError) error = NULL;
	int to_cmd[2], from_cmd[2];
	SpawnOpts o = { .in = -1, .out = -1, .err = -1, .flags = SPAWN_PGROUP };
	pid_t pid;

	if (!g_unix_open_pipe(to_cmd, FD_CLOEXEC, &error) ||
	    !g_unix_open_pipe(from_cmd, FD_CLOEXEC, &error)) {
		log_info("viewer %s: %s", v->name, error->message);
		quic_conn_close(qc, QUIC_APP_INTERNAL, "cannot start the command");
		return;
	}
	o.in = to_cmd[0];
	o.out = from_cmd[1];
	pid = spawn_child((const char *const *)cmd_argv, &o, &error);
	close(to_cmd[0]);
	close(from_cmd[1]);
	if (pid == -1) {
		log_info("cannot run %s: %s", cmd_argv[0], error->message);
		close(to_cmd[1]);
		close(from_cmd[0]);
		quic_conn_close(qc, QUIC_APP_INTERNAL, "cannot start the command");
		return;
	}
	g_hash_table_add(children, GINT_TO_POINTER(pid));
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
	else if (!v->refused_full)
		log_debug("connection from %s ended before it was set up: %s",
		    v->name, end->reason);
}

static gboolean
on_listen_socket(int fd, GIOCondition cond, gpointer ud)
{
	uint8_t buf[65536];
	static const QuicEvents ev = {
		.handshake_done = on_handshake,
		.ready = on_viewer_ready,
		.ended = on_viewer_ended,
	};

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from, local;
		socklen_t from_len, local_len;
		size_t seg;
		ssize_t n = udp_recv(fd, buf, sizeof(buf), &seg, &from,
		    &from_len, &local, &local_len);
		g_autofree char *rs = NULL, *ls = NULL, *key = NULL;
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
		rs = udp_addr_string((struct sockaddr *)&from);
		ls = udp_addr_string((struct sockaddr *)&local);
		key = g_strconcat(rs, "|", ls, NULL);
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
		v->name = g_steal_pointer(&rs);
		v->key = g_steal_pointer(&key);
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

static gboolean
on_listen_stop(gpointer ud)
{
	GHashTableIter it;
	gpointer k, val;

	g_hash_table_iter_init(&it, viewers);
	while (g_hash_table_iter_next(&it, &k, &val)) {
		Viewer *v = val;

		if (!v->gone)
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
	ticket = ticket_encode(&t);

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

	viewers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, viewer_free);
	children = g_hash_table_new(NULL, NULL);
	loop = g_main_loop_new(NULL, FALSE);
	if (fd4 >= 0)
		g_unix_fd_add(fd4, G_IO_IN, on_listen_socket, NULL);
	if (fd6 >= 0)
		g_unix_fd_add(fd6, G_IO_IN, on_listen_socket, NULL);
	g_unix_signal_add(SIGINT, on_listen_stop, NULL);
	g_unix_signal_add(SIGTERM, on_listen_stop, NULL);
	g_main_loop_run(loop);
	g_hash_table_destroy(viewers);
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
				if (refused == n_cands)
					errx(EX_UNAVAILABLE, "no pp-tunnel host is listening at %s; is the host still running?",
					    tried->str);
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
on_connect_ready(QuicConn *qc, void *ud)
{
	Cand *c = ud;
	int in, out;

	connected = TRUE;
	log_info("connected to %s (path direct, %s, RTT %.1f ms)", c->name,
	    family_name((struct sockaddr *)&c->remote), quic_conn_rtt_ms(qc));
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
on_connect_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	Cand *c = ud;

	if (c != winner)
		return;
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
		case QUIC_APP_OK:
			errx(EX_UNAVAILABLE, "the host closed the connection before the end of the stream");
		default:
			errx(EX_UNAVAILABLE, "the host closed the connection (error 0x%llx: %s)",
			    (unsigned long long)end->app_code, end->reason);
		}
	case QUIC_END_PROOF:
		errx(EX_NOPERM, "the host at %s did not prove it holds this ticket's secret; not trusting it",
		    c->name);
	case QUIC_END_IDLE:
		errx(EX_UNAVAILABLE, "lost the connection to %s: no packet for %u s",
		    c->name, idle_ms / 1000);
	case QUIC_END_HANDSHAKE:
		errx(EX_UNAVAILABLE, "the host at %s answered but the handshake did not finish",
		    c->name);
	case QUIC_END_ERROR:
		errx(EX_UNAVAILABLE, "the connection to %s failed: %s", c->name,
		    end->reason);
	}
	errx(EX_SOFTWARE, "unknown end of connection");
}

static gboolean
on_connect_timeout(gpointer ud)
{
	if (connected)
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

static int
cmd_connect(const char *text)
{
	g_autoptr(GError) error = NULL;
	static const QuicEvents ev = {
		.ready = on_connect_ready,
		.ended = on_connect_ended,
	};
	Ticket t;

	if (!ticket_decode(text, &t))
		errx(EX_DATAERR, "ticket is damaged: check that it was copied whole (it starts with \"%s\")",
		    TICKET_PREFIX);
	if (t.n_addrs == 0)
		errx(EX_UNAVAILABLE, "the ticket has no direct address, and this version of pp-tunnel has no rendezvous");
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
	if (n_cands == 0)
		errx(EX_UNAVAILABLE, "cannot send to any of the host's addresses: %s",
		    tried->str);
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
		{ NULL, 0, NULL, 0 }
	};
	static const struct option connect_opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr, *env, *mode;
	gboolean is_listen;
	int ch;

	log_init();
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	mode = argv[1];
	if (strcmp(mode, "listen") == 0)
		is_listen = TRUE;
	else if (strcmp(mode, "connect") == 0)
		is_listen = FALSE;
	else
		usage();
	argc--;
	argv++;

	if ((env = getenv("PP_TUNNEL_IDLE_TIMEOUT")) != NULL && *env != '\0') {
		guint s = strtonum(env, 1, 3600, &errstr);

		if (errstr != NULL)
			errx(EX_USAGE, "PP_TUNNEL_IDLE_TIMEOUT=%s: %s (seconds, 1 to 3600)",
			    env, errstr);
		idle_ms = s * 1000;
	}

	/* listen stops at the first word of CMD; connect takes TICKET and
	 * its options in any order. */
	while ((ch = getopt_long(argc, argv, is_listen ? "+" : "",
	    is_listen ? listen_opts : connect_opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			max_viewers = strtonum(optarg, 1, 100000, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "--max-viewers %s: %s", optarg, errstr);
			break;
		case 'p':
			port = strtonum(optarg, 0, 65535, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "--port %s: %s", optarg, errstr);
			break;
		case 'r':
			if (strcmp(optarg, "none") != 0)
				errx(EX_USAGE, "--rendezvous %s: this version of pp-tunnel only has the direct path; use --rendezvous none or leave it out",
				    optarg);
			break;
		case 'f':
			ticket_file = optarg;
			break;
		case 't':
			timeout_s = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "--timeout %s: %s", optarg, errstr);
			break;
		default:
			usage();
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
		usage();
	return cmd_connect(argv[0]);
}
