/* Unit tests of lib/tlsrelay, printing TAP: a TLS server (gnutls, a
 * certificate made here for relay.test and 127.0.0.1) and a plain TCP
 * client, each in a thread of its own, with the relay between them on the
 * main loop. 4 MB each way arrive intact through the relay's bounded
 * buffers while the client reads late; the end of each direction reaches
 * the other side (close_notify to the server, EOF to the client) while the
 * other direction goes on. The name is sent as SNI and verified; an IP
 * address is verified against the certificate's IP addresses and not
 * sent; a certificate whose CA is not given, or for another name, is
 * refused with a clear error and the client's connection closed without
 * a byte. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tlsrelay.h"
#include "tap.h"

#define BIG (4 * 1024 * 1024)

/* A self-signed certificate that is its own CA. */
static void
make_cert(const char *cn, gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key,
    const char *pem_path)
{
	static const unsigned char lo[4] = { 127, 0, 0, 1 };
	unsigned char serial[8];
	gnutls_datum_t out;
	time_t now = time(NULL);
	FILE *f;

	gnutls_x509_privkey_init(key);
	gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	gnutls_x509_crt_init(crt);
	gnutls_x509_crt_set_version(*crt, 3);
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	gnutls_x509_crt_set_serial(*crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(*crt, now - 60);
	gnutls_x509_crt_set_expiration_time(*crt, now + 3600);
	gnutls_x509_crt_set_dn_by_oid(*crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	    strlen(cn));
	gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_DNSNAME,
	    "relay.test", 10, GNUTLS_FSAN_APPEND);
	gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_IPADDRESS, lo,
	    sizeof(lo), GNUTLS_FSAN_APPEND);
	gnutls_x509_crt_set_basic_constraints(*crt, 1, -1);
	gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_CERT_SIGN);
	gnutls_x509_crt_set_key_purpose_oid(*crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	gnutls_x509_crt_set_key(*crt, *key);
	if (gnutls_x509_crt_sign2(*crt, *crt, *key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crt_export2(*crt, GNUTLS_X509_FMT_PEM, &out) < 0 ||
	    (f = fopen(pem_path, "w")) == NULL) {
		printf("Bail out! cannot make a certificate\n");
		exit(1);
	}
	fwrite(out.data, 1, out.size, f);
	fclose(f);
	gnutls_free(out.data);
}

static uint8_t
pattern(size_t i, uint8_t seed)
{
	return (uint8_t)((i * 2654435761u) >> 13) ^ seed;
}

/* --- the TLS server ----------------------------------------------------- */

typedef struct {
	gnutls_certificate_credentials_t cred;
	int lfd;
	size_t send;		/* bytes to send after the client's EOF */
	/* results */
	gboolean handshake_ok;
	size_t got;
	gboolean got_intact, got_eof;
	char sni[256];
} Server;

static gpointer
server_thread(gpointer p)
{
	Server *s = p;
	gnutls_session_t ses;
	uint8_t buf[16384];
	size_t snilen = sizeof(s->sni) - 1;
	unsigned type;
	ssize_t n;
	int fd, rv;

	s->got_intact = TRUE;
	if ((fd = accept(s->lfd, NULL, NULL)) == -1)
		return NULL;
	gnutls_init(&ses, GNUTLS_SERVER);
	gnutls_set_default_priority(ses);
	gnutls_credentials_set(ses, GNUTLS_CRD_CERTIFICATE, s->cred);
	gnutls_transport_set_int(ses, fd);
	do
		rv = gnutls_handshake(ses);
	while (rv < 0 && !gnutls_error_is_fatal(rv));
	if (rv < 0)
		goto out;
	s->handshake_ok = TRUE;
	if (gnutls_server_name_get(ses, s->sni, &snilen, &type, 0) == 0)
		s->sni[snilen] = '\0';
	/* The client's bytes until its close_notify. */
	while ((n = gnutls_record_recv(ses, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (gnutls_error_is_fatal(n))
				goto out;
			continue;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(s->got + i, 1))
				s->got_intact = FALSE;
		s->got += n;
	}
	s->got_eof = TRUE;
	/* Then ours: the other direction goes on after that EOF. */
	for (size_t sent = 0; sent < s->send; ) {
		size_t len = MIN(sizeof(buf), s->send - sent);

		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(sent + i, 2);
		if ((n = gnutls_record_send(ses, buf, len)) < 0) {
			if (gnutls_error_is_fatal(n))
				goto out;
			continue;
		}
		sent += n;
	}
	gnutls_bye(ses, GNUTLS_SHUT_WR);
out:
	gnutls_deinit(ses);
	close(fd);
	return NULL;
}

/* --- the client (libnice's part) ---------------------------------------- */

typedef struct {
	guint port;
	size_t send;
	guint delay_ms;		/* before reading */
	/* results */
	gboolean sent_all;
	size_t got;
	gboolean got_intact, got_eof;
} Client;

static gpointer
client_thread(gpointer p)
{
	Client *c = p;
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint8_t buf[16384];
	ssize_t n;
	int fd;

	c->got_intact = TRUE;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(c->port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		return NULL;
	for (size_t sent = 0; sent < c->send; ) {
		size_t len = MIN(sizeof(buf), c->send - sent);

		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(sent + i, 1);
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) <= 0)
			break;
		sent += n;
	}
	c->sent_all = TRUE;
	shutdown(fd, SHUT_WR);
	g_usleep(c->delay_ms * 1000);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(c->got + i, 2))
				c->got_intact = FALSE;
		c->got += n;
	}
	c->got_eof = n == 0;
	close(fd);
	return NULL;
}

/* --- one run ----------------------------------------------------------- */

static GMainLoop *loop;
static int running;

static gboolean
check_done(gpointer p)
{
	if (g_atomic_int_get(&running) == 0) {
		g_main_loop_quit(loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gpointer
server_wrap(gpointer p)
{
	server_thread(p);
	g_atomic_int_dec_and_test(&running);
	return NULL;
}

static gpointer
client_wrap(gpointer p)
{
	client_thread(p);
	g_atomic_int_dec_and_test(&running);
	return NULL;
}

static gboolean
on_bound(gpointer p)
{
	printf("Bail out! a run took more than 60 s\n");
	exit(1);
}

/* The relay for name (with ca_file, or none) to the server, then the
 * client through it. Returns the relay's error, or NULL. */
static char *
run(gnutls_certificate_credentials_t cred, const char *name,
    const char *ca_file, Server *s, Client *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	g_autoptr(GError) error = NULL;
	GThread *ts, *tc;
	TlsRelay *r;
	char *why;
	guint bound;

	s->cred = cred;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd == -1 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    listen(s->lfd, 1) == -1 ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &alen) == -1) {
		printf("Bail out! the server's socket: %s\n", strerror(errno));
		exit(1);
	}
	r = tlsrelay_new(name, "127.0.0.1", ntohs(a.sin_port), ca_file, &error);
	if (r == NULL) {
		printf("Bail out! %s\n", error->message);
		exit(1);
	}
	c->port = tlsrelay_port(r);
	g_atomic_int_set(&running, 2);
	ts = g_thread_new("server", server_wrap, s);
	tc = g_thread_new("client", client_wrap, c);
	g_timeout_add(20, check_done, NULL);
	bound = g_timeout_add_seconds(60, on_bound, NULL);
	g_main_loop_run(loop);
	g_source_remove(bound);
	g_thread_join(tc);
	/* A server still waiting in accept (the relay refused the
	 * certificate before it connected? it cannot: but be sure). */
	shutdown(s->lfd, SHUT_RDWR);
	g_thread_join(ts);
	close(s->lfd);
	why = g_strdup(tlsrelay_error(r));
	tlsrelay_free(r);
	return why;
}

int
main(void)
{
	g_autofree char *dir = g_dir_make_tmp("tlsrelay-test-XXXXXX", NULL);
	g_autofree char *ca = g_build_filename(dir, "ca.pem", NULL);
	g_autofree char *other = g_build_filename(dir, "other.pem", NULL);
	g_autofree char *junk = g_build_filename(dir, "junk.pem", NULL);
	gnutls_x509_crt_t crt, ocrt;
	gnutls_x509_privkey_t key, okey;
	gnutls_certificate_credentials_t cred;
	g_autoptr(GError) error = NULL;
	char *why;

	printf("1..20\n");
	loop = g_main_loop_new(NULL, FALSE);
	make_cert("relay.test", &crt, &key, ca);
	make_cert("another CA", &ocrt, &okey, other);
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_certificate_set_x509_key(cred, &crt, 1, key);

	{
		Server s = { .send = BIG };
		Client c = { .send = BIG, .delay_ms = 500 };

		why = run(cred, "relay.test", ca, &s, &c);
		ok(why == NULL, "a name and its CA: no error");
		if (why != NULL)
			diag("%s", why);
		ok(s.handshake_ok, "the handshake was done");
		ok(strcmp(s.sni, "relay.test") == 0, "with the name as SNI");
		ok(s.got == BIG && s.got_intact, "4 MB to the server, intact");
		ok(s.got_eof, "then the client's EOF, as close_notify");
		ok(c.got == BIG && c.got_intact,
		    "4 MB back after that EOF, read late (the relay stops reading, the server waits), intact");
		ok(c.got_eof, "then the server's EOF");
		g_free(why);
	}
	{
		Server s = { .send = 1000 };
		Client c = { .send = 1000 };

		why = run(cred, "127.0.0.1", ca, &s, &c);
		ok(why == NULL && s.got == 1000 && c.got == 1000 && c.got_intact,
		    "an IP address in the certificate's IP addresses: trusted");
		ok(s.sni[0] == '\0', "and no SNI for it");
		g_free(why);
	}
	{
		Server s = { .send = 1000 };
		Client c = { .send = 1000 };

		c.send = 0;	/* a refused connection is closed at once */
		why = run(cred, "relay.test", NULL, &s, &c);
		ok(why != NULL && strstr(why, "certificate not trusted (issuer unknown); give its CA with --turn-ca") != NULL,
		    "without the CA: not trusted, issuer unknown");
		diag("%s", why ? why : "(no error)");
		ok(c.got == 0 && c.got_eof, "the client's connection closed without a byte");
		ok(!s.handshake_ok, "the server's handshake did not finish");
		g_free(why);
	}
	{
		Server s = { .send = 1000 };
		Client c = { .send = 1000 };

		c.send = 0;
		why = run(cred, "relay.test", other, &s, &c);
		ok(why != NULL && strstr(why, "(issuer unknown)") != NULL,
		    "with another CA: not trusted");
		ok(c.got == 0 && c.got_eof, "the client's connection closed");
		g_free(why);
	}
	{
		Server s = { .send = 1000 };
		Client c = { .send = 1000 };

		c.send = 0;
		why = run(cred, "other.test", ca, &s, &c);
		ok(why != NULL && strstr(why, "TURN server other.test:") == why &&
		    strstr(why, "certificate not trusted (not issued for other.test); check the host name") != NULL,
		    "another name: not issued for it");
		diag("%s", why ? why : "(no error)");
		ok(c.got == 0 && c.got_eof, "the client's connection closed");
		g_free(why);
	}
	{
		Server s = { .send = 1000 };
		Client c = { .send = 1000 };

		c.send = 0;
		why = run(cred, "127.0.0.2", ca, &s, &c);
		ok(why != NULL && strstr(why, "(not issued for 127.0.0.2)") != NULL,
		    "an IP address not in the certificate: not issued for it");
		g_free(why);
	}

	ok(tlsrelay_check_ca(ca, NULL), "a PEM CA file passes the check");
	g_file_set_contents(junk, "not a certificate\n", -1, NULL);
	ok(!tlsrelay_check_ca(junk, &error) && error != NULL &&
	    strstr(error->message, junk) == error->message,
	    "a file with no certificate does not, naming it");
	g_clear_error(&error);
	ok(!tlsrelay_check_ca("/nonexistent/ca.pem", &error),
	    "nor a missing file");

	gnutls_certificate_free_credentials(cred);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ocrt);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(okey);
	unlink(ca);
	unlink(other);
	unlink(junk);
	rmdir(dir);
	g_main_loop_unref(loop);
	return n_failed > 0;
}
