#include "tlsrelay.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define BUF_SIZE 65536		/* each way, per connection */
#define SETUP_S 10		/* for the TCP connect and the TLS handshake */

typedef struct Conn Conn;

struct TlsRelay {
	char *name;		/* what the certificate must be for */
	char *label;		/* "NAME:PORT" for messages */
	struct sockaddr_storage server;
	socklen_t server_len;
	gboolean is_ip;
	int lfd;
	guint lwatch;
	guint lport;
	gnutls_certificate_credentials_t cred;
	GList *conns;
	char *error;
};

enum { C_CONNECTING, C_HANDSHAKE, C_OPEN };

struct Conn {
	TlsRelay *r;
	int cfd;		/* libnice's connection to us */
	int sfd;		/* ours to the TURN server */
	gnutls_session_t s;
	int state;
	guint cwatch, swatch, timer;
	GIOCondition ccond, scond;
	/* gnutls's last E_AGAIN: 0 waits to read, 1 to write, -1 none. */
	int hs_dir, send_dir, recv_dir, bye_dir;
	size_t send_try;	/* the size of a send to repeat after E_AGAIN */
	gboolean c_eof, s_eof, bye_done, c_shut;
	size_t up_len, down_len;
	uint8_t up[BUF_SIZE];	/* libnice to the server */
	uint8_t down[BUF_SIZE];	/* the server to libnice */
};

static void conn_pump(Conn *c);

static gboolean
load_trust(gnutls_certificate_credentials_t cred, const char *ca_file,
    GError **error)
{
	int rv;

	/* No system store is fine when a CA file is given. */
	if ((rv = gnutls_certificate_set_x509_system_trust(cred)) < 0)
		log_debug("no system trust store: %s", gnutls_strerror(rv));
	if (ca_file == NULL)
		return TRUE;
	rv = gnutls_certificate_set_x509_trust_file(cred, ca_file,
	    GNUTLS_X509_FMT_PEM);
	if (rv <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "%s: %s", ca_file, rv < 0 ? gnutls_strerror(rv) :
		    "no certificate in it (a PEM file is needed)");
		return FALSE;
	}
	return TRUE;
}

gboolean
tlsrelay_check_ca(const char *file, GError **error)
{
	gnutls_certificate_credentials_t cred;
	gboolean ok;

	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "out of memory");
		return FALSE;
	}
	ok = load_trust(cred, file, error);
	gnutls_certificate_free_credentials(cred);
	return ok;
}

static void
set_watch(guint *id, GIOCondition *cur, int fd, GIOCondition want,
    GUnixFDSourceFunc fn, Conn *c)
{
	if (*id != 0 && *cur == want)
		return;
	if (*id != 0)
		g_source_remove(*id);
	*id = want != 0 ? g_unix_fd_add(fd, want, fn, c) : 0;
	*cur = want;
}

static void
conn_free(Conn *c)
{
	TlsRelay *r = c->r;

	r->conns = g_list_remove(r->conns, c);
	if (c->cwatch != 0)
		g_source_remove(c->cwatch);
	if (c->swatch != 0)
		g_source_remove(c->swatch);
	if (c->timer != 0)
		g_source_remove(c->timer);
	if (c->s != NULL)
		gnutls_deinit(c->s);
	if (c->sfd >= 0)
		close(c->sfd);
	close(c->cfd);
	g_free(c);
}

/* Setting up failed: said once per relay (libnice connects once per
 * local address, and again), and libnice's connection is closed, so that
 * it goes on without this relayed candidate. */
static void
conn_fail(Conn *c, char *why)
{
	TlsRelay *r = c->r;

	if (r->error == NULL || strcmp(r->error, why) != 0) {
		log_info("%s", why);
		g_free(r->error);
		r->error = why;
	} else
		g_free(why);
	conn_free(c);
}

static char *
verify_error(Conn *c)
{
	static const struct {
		unsigned flag;
		const char *what;
	} reasons[] = {
		{ GNUTLS_CERT_SIGNER_NOT_FOUND, "issuer unknown" },
		{ GNUTLS_CERT_SIGNER_NOT_CA, "issuer is not a CA" },
		{ GNUTLS_CERT_EXPIRED, "expired" },
		{ GNUTLS_CERT_NOT_ACTIVATED, "not yet valid" },
		{ GNUTLS_CERT_REVOKED, "revoked" },
		{ GNUTLS_CERT_INSECURE_ALGORITHM, "insecure algorithm" },
		{ GNUTLS_CERT_SIGNATURE_FAILURE, "bad signature" },
	};
	unsigned st = gnutls_session_get_verify_cert_status(c->s);
	g_autoptr(GString) s = g_string_new(NULL);
	gboolean other = FALSE;

	for (size_t i = 0; i < G_N_ELEMENTS(reasons); i++)
		if (st & reasons[i].flag) {
			g_string_append_printf(s, "%s%s", s->len ? ", " : "",
			    reasons[i].what);
			other = TRUE;
		}
	if (st & GNUTLS_CERT_UNEXPECTED_OWNER)
		g_string_append_printf(s, "%snot issued for %s",
		    s->len ? ", " : "", c->r->name);
	if (s->len == 0) {
		gnutls_datum_t out = { NULL, 0 };

		if (gnutls_certificate_verification_status_print(st,
		    GNUTLS_CRT_X509, &out, 0) == 0 && out.data != NULL) {
			g_string_append(s, (const char *)out.data);
			g_strchomp(s->str);
			gnutls_free(out.data);
		} else
			g_string_append(s, "not verified");
		other = TRUE;
	}
	return g_strdup_printf("TURN server %s: certificate not trusted (%s); %s",
	    c->r->label, s->str, other ? "give its CA with --turn-ca" :
	    "check the host name of the turns:// URL");
}

static gboolean
on_setup_timeout(gpointer ud)
{
	Conn *c = ud;

	c->timer = 0;
	conn_fail(c, g_strdup_printf("TURN server %s: %s within %d s",
	    c->r->label, c->state == C_CONNECTING ? "no TCP connection" :
	    "no TLS handshake", SETUP_S));
	return G_SOURCE_REMOVE;
}

static gboolean
start_tls(Conn *c)
{
	TlsRelay *r = c->r;
	int rv;

	if ((rv = gnutls_init(&c->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) < 0 ||
	    (rv = gnutls_set_default_priority(c->s)) < 0 ||
	    (rv = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE,
	    r->cred)) < 0 ||
	    /* SNI is for names only (RFC 6066, 3). */
	    (!r->is_ip && (rv = gnutls_server_name_set(c->s, GNUTLS_NAME_DNS,
	    r->name, strlen(r->name))) < 0)) {
		conn_fail(c, g_strdup_printf("TURN server %s: TLS: %s",
		    r->label, gnutls_strerror(rv)));
		return FALSE;
	}
	/* The name, or for an IP address the certificate's IP addresses
	 * (gnutls matches an address string against those only). */
	gnutls_session_set_verify_cert(c->s, r->name, 0);
	gnutls_transport_set_int(c->s, c->sfd);
	c->state = C_HANDSHAKE;
	return TRUE;
}

static gboolean
handshake(Conn *c)
{
	int rv;

	do
		rv = gnutls_handshake(c->s);
	while (rv < 0 && rv != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rv));
	if (rv == GNUTLS_E_AGAIN) {
		c->hs_dir = gnutls_record_get_direction(c->s);
		return TRUE;
	}
	if (rv == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		conn_fail(c, verify_error(c));
		return FALSE;
	}
	if (rv < 0) {
		conn_fail(c, g_strdup_printf("TURN server %s: TLS handshake failed: %s",
		    c->r->label, gnutls_strerror(rv)));
		return FALSE;
	}
	c->state = C_OPEN;
	if (c->timer != 0)
		g_source_remove(c->timer);
	c->timer = 0;
	log_debug("TURN server %s: %s", c->r->label,
	    gnutls_protocol_get_name(gnutls_protocol_get_version(c->s)));
	return TRUE;
}

static GIOCondition
dir_cond(int dir)
{
	return dir == 1 ? G_IO_OUT : G_IO_IN;
}

static gboolean on_client(int fd, GIOCondition cond, gpointer ud);
static gboolean on_server(int fd, GIOCondition cond, gpointer ud);

static void
conn_watch(Conn *c)
{
	GIOCondition cc = 0, sc = 0;

	if (!c->c_eof && c->up_len < BUF_SIZE)
		cc |= G_IO_IN;
	if (c->down_len > 0)
		cc |= G_IO_OUT;
	switch (c->state) {
	case C_CONNECTING:
		sc = G_IO_OUT;
		break;
	case C_HANDSHAKE:
		sc = dir_cond(c->hs_dir);
		break;
	default:
		if (c->up_len > 0 && c->send_dir >= 0)
			sc |= dir_cond(c->send_dir);
		if (c->c_eof && c->up_len == 0 && !c->bye_done && c->bye_dir >= 0)
			sc |= dir_cond(c->bye_dir);
		if (!c->s_eof && c->down_len < BUF_SIZE)
			sc |= dir_cond(c->recv_dir);
		break;
	}
	set_watch(&c->cwatch, &c->ccond, c->cfd, cc, on_client, c);
	set_watch(&c->swatch, &c->scond, c->sfd, sc, on_server, c);
}

/* An error once the tunnel is up: libnice sees its connection close. */
static void
conn_broken(Conn *c, const char *what)
{
	log_debug("TURN server %s: %s", c->r->label, what);
	conn_free(c);
}

/* Moves what can move, both ways, until everything would block. */
static void
conn_pump(Conn *c)
{
	gboolean progress = TRUE;
	ssize_t n;

	if (c->state == C_HANDSHAKE && !handshake(c))
		return;
	while (progress) {
		progress = FALSE;
		if (!c->c_eof && c->up_len < BUF_SIZE) {
			n = read(c->cfd, c->up + c->up_len, BUF_SIZE - c->up_len);
			if (n > 0)
				c->up_len += n, progress = TRUE;
			else if (n == 0)
				c->c_eof = progress = TRUE;
			else if (errno != EAGAIN && errno != EINTR) {
				conn_broken(c, g_strerror(errno));
				return;
			}
		}
		if (c->state != C_OPEN)
			break;
		if (c->up_len > 0) {
			size_t len = c->send_try ? c->send_try : c->up_len;

			n = gnutls_record_send(c->s, c->up, len);
			if (n > 0) {
				memmove(c->up, c->up + n, c->up_len - n);
				c->up_len -= n;
				c->send_try = 0;
				c->send_dir = -1;
				progress = TRUE;
			} else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				/* Again with the same size (gnutls holds the
				 * record). */
				c->send_try = len;
				c->send_dir = gnutls_record_get_direction(c->s);
			} else {
				conn_broken(c, gnutls_strerror(n));
				return;
			}
		}
		if (c->c_eof && c->up_len == 0 && !c->bye_done) {
			int rv = gnutls_bye(c->s, GNUTLS_SHUT_WR);

			if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED)
				c->bye_dir = gnutls_record_get_direction(c->s);
			else {
				c->bye_done = progress = TRUE;
				shutdown(c->sfd, SHUT_WR);
			}
		}
		if (!c->s_eof && c->down_len < BUF_SIZE) {
			n = gnutls_record_recv(c->s, c->down + c->down_len,
			    BUF_SIZE - c->down_len);
			if (n > 0) {
				c->down_len += n;
				c->recv_dir = -1;
				progress = TRUE;
			} else if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
				c->s_eof = progress = TRUE;
			else if (n == GNUTLS_E_AGAIN)
				c->recv_dir = gnutls_record_get_direction(c->s);
			else if (!gnutls_error_is_fatal(n))
				progress = TRUE;	/* a warning alert */
			else {
				conn_broken(c, gnutls_strerror(n));
				return;
			}
		}
		if (c->down_len > 0) {
			n = send(c->cfd, c->down, c->down_len, MSG_NOSIGNAL);
			if (n > 0) {
				memmove(c->down, c->down + n, c->down_len - n);
				c->down_len -= n;
				progress = TRUE;
			} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
				conn_broken(c, g_strerror(errno));
				return;
			}
		}
		if (c->s_eof && c->down_len == 0 && !c->c_shut) {
			shutdown(c->cfd, SHUT_WR);
			c->c_shut = progress = TRUE;
		}
	}
	if (c->c_eof && c->bye_done && c->s_eof && c->c_shut) {
		log_debug("TURN server %s: connection closed", c->r->label);
		conn_free(c);
		return;
	}
	conn_watch(c);
}

static gboolean
on_client(int fd, GIOCondition cond, gpointer ud)
{
	conn_pump(ud);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_server(int fd, GIOCondition cond, gpointer ud)
{
	Conn *c = ud;

	if (c->state == C_CONNECTING) {
		int e = 0;
		socklen_t len = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e == EINPROGRESS)
			return G_SOURCE_CONTINUE;
		if (e != 0) {
			conn_fail(c, g_strdup_printf("TURN server %s: cannot connect over TCP: %s",
			    c->r->label, g_strerror(e)));
			return G_SOURCE_CONTINUE;
		}
		if (!start_tls(c))
			return G_SOURCE_CONTINUE;
	}
	conn_pump(c);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_accept(int fd, GIOCondition cond, gpointer ud)
{
	TlsRelay *r = ud;
	static const int one = 1;
	Conn *c;
	int cfd;

	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return G_SOURCE_CONTINUE;
	c = g_new0(Conn, 1);
	c->r = r;
	c->cfd = cfd;
	c->hs_dir = c->send_dir = c->recv_dir = c->bye_dir = -1;
	r->conns = g_list_prepend(r->conns, c);
	/* TURN carries datagrams: no Nagle delay either side. */
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->sfd = socket(r->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->sfd == -1) {
		conn_fail(c, g_strdup_printf("TURN server %s: %s", r->label,
		    g_strerror(errno)));
		return G_SOURCE_CONTINUE;
	}
	setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	log_debug("TURN server %s: connecting for libnice", r->label);
	c->timer = g_timeout_add_seconds(SETUP_S, on_setup_timeout, c);
	if (connect(c->sfd, (struct sockaddr *)&r->server, r->server_len) == 0) {
		if (start_tls(c))
			conn_pump(c);
	} else if (errno == EINPROGRESS)
		conn_watch(c);
	else
		conn_fail(c, g_strdup_printf("TURN server %s: cannot connect over TCP: %s",
		    r->label, g_strerror(errno)));
	return G_SOURCE_CONTINUE;
}

TlsRelay *
tlsrelay_new(const char *name, const char *addr, guint port,
    const char *ca_file, GError **error)
{
	TlsRelay *r = g_new0(TlsRelay, 1);
	struct sockaddr_in lo = { .sin_family = AF_INET };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&r->server;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->server;
	struct in6_addr a6;
	socklen_t len = sizeof(lo);

	r->lfd = -1;
	r->name = g_strdup(name);
	r->is_ip = inet_pton(AF_INET, name, &lo.sin_addr) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	r->label = g_strdup_printf(strchr(name, ':') ? "[%s]:%u" : "%s:%u",
	    name, port);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		r->server_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		r->server_len = sizeof(*s6);
	} else {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "TURN server %s: not a numeric address", addr);
		goto fail;
	}
	if (gnutls_certificate_allocate_credentials(&r->cred) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
		goto fail;
	}
	if (!load_trust(r->cred, ca_file, error))
		goto fail;
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lo.sin_port = 0;
	if ((r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(r->lfd, (struct sockaddr *)&lo, sizeof(lo)) == -1 ||
	    listen(r->lfd, 16) == -1 ||
	    getsockname(r->lfd, (struct sockaddr *)&lo, &len) == -1) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		    "TURN over TLS: a loopback TCP port: %s", g_strerror(errno));
		goto fail;
	}
	r->lport = ntohs(lo.sin_port);
	r->lwatch = g_unix_fd_add(r->lfd, G_IO_IN, on_accept, r);
	return r;
fail:
	tlsrelay_free(r);
	return NULL;
}

const char *
tlsrelay_addr(TlsRelay *r)
{
	return "127.0.0.1";
}

guint
tlsrelay_port(TlsRelay *r)
{
	return r->lport;
}

const char *
tlsrelay_error(TlsRelay *r)
{
	return r->error;
}

void
tlsrelay_free(TlsRelay *r)
{
	if (r == NULL)
		return;
	while (r->conns != NULL)
		conn_free(r->conns->data);
	if (r->lwatch != 0)
		g_source_remove(r->lwatch);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->cred != NULL)
		gnutls_certificate_free_credentials(r->cred);
	g_free(r->name);
	g_free(r->label);
	g_free(r->error);
	g_free(r);
}
