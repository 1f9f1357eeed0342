/* Unit tests of lib/quic's certificate pinning and refusals, printing TAP:
 * a viewer and a host connection in this process, their datagrams on a
 * socketpair. With each side pinning the other's certificate the stream
 * flows both ways; when the certificate a side presents is not the one
 * the other pinned (an impostor host, an impostor viewer), the TLS
 * handshake fails with a clear error and not one stream byte passes
 * either way. On the direct path (nothing pinned), a viewer believes
 * "host is full" from a host with the secret, and not from an impostor
 * that has not proved it. */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quic.h"
#include "tap.h"

#define PAYLOAD_LEN 200000

typedef struct Side Side;
struct Side {
	const char *name;
	gboolean server;
	int fd;			/* this side's end of the socketpair */
	guint watch;
	QuicConfig cfg;
	struct sockaddr_in local, remote;
	QuicConn *qc;
	int in_fd, out_fd;	/* memfds: what it sends, what it got */
	gboolean handshake, ready, ended;
	QuicEnd end;
	uint64_t sent, received;
};

static GMainLoop *loop;
static Side *sides[2];
static gboolean host_refuses;	/* the host closes with QUIC_APP_FULL at once */
static gboolean host_impostor;	/* the host's proof key is not the secret's */

static void
side_send(void *ctx, const uint8_t *pkt, size_t len)
{
	Side *s = ctx;

	/* A full socket buffer loses the datagram: QUIC recovers. */
	(void)send(s->fd, pkt, len, MSG_DONTWAIT);
}

static void
maybe_quit(void)
{
	if (sides[0]->ended && (sides[1]->ended || sides[1]->qc == NULL))
		g_main_loop_quit(loop);
}

static void
on_handshake(QuicConn *qc, void *ud)
{
	Side *s = ud;

	s->handshake = TRUE;
	if (s->server && host_refuses)
		quic_conn_close(qc, QUIC_APP_FULL, "1/1");
}

static void
on_ready(QuicConn *qc, void *ud)
{
	Side *s = ud;

	s->ready = TRUE;
	quic_conn_attach(qc, s->in_fd, s->out_fd);
	s->in_fd = s->out_fd = -1;
}

static void
on_ended(QuicConn *qc, const QuicEnd *end, void *ud)
{
	Side *s = ud;

	s->ended = TRUE;
	s->end = *end;
	quic_conn_counts(qc, &s->sent, &s->received);
	maybe_quit();
}

static gboolean
on_socket(int fd, GIOCondition cond, gpointer ud)
{
	Side *s = ud;
	uint8_t buf[2048];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (s->qc == NULL && s->server) {
			g_autoptr(GError) error = NULL;

			s->qc = quic_conn_new_server(&s->cfg, buf, n, &error);
			if (s->qc == NULL)
				diag("%s: %s", s->name, error->message);
			continue;
		}
		if (s->qc != NULL)
			quic_conn_recv(s->qc, buf, n);
	}
	return G_SOURCE_CONTINUE;
}

static int
memfd_with(const uint8_t *data, size_t len)
{
	int fd = memfd_create("quic-test", MFD_CLOEXEC);

	if (fd == -1 || (len > 0 && write(fd, data, len) != (ssize_t)len) ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		perror("memfd");
		exit(99);
	}
	return fd;
}

/* What the other side wrote to out_fd: its length, and whether it is
 * exactly want. The memfd stays open (dup) after the connection closed
 * its copy. */
static gboolean
content_is(int fd, const uint8_t *want, size_t want_len, size_t *got_len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *buf;
	gboolean same;

	*got_len = end < 0 ? 0 : (size_t)end;
	if (*got_len != want_len)
		return FALSE;
	if (want_len == 0)
		return TRUE;
	buf = g_malloc(want_len + 1);
	same = pread(fd, buf, want_len, 0) == (ssize_t)want_len &&
	    memcmp(buf, want, want_len) == 0;
	g_free(buf);
	return same;
}

static void
side_init(Side *s, const char *name, gboolean server, int fd,
    const uint8_t key[KEYS_LEN], const uint8_t *pin, const uint8_t *data,
    size_t len)
{
	static const QuicEvents ev = {
		.handshake_done = on_handshake,
		.ready = on_ready,
		.ended = on_ended,
	};

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->server = server;
	s->fd = fd;
	/* A pretend path, as over ICE. */
	s->local.sin_family = s->remote.sin_family = AF_INET;
	s->local.sin_addr.s_addr = htonl(server ? 0x7f000101 : 0x7f000102);
	s->remote.sin_addr.s_addr = htonl(server ? 0x7f000102 : 0x7f000101);
	s->local.sin_port = htons(server ? 1 : 2);
	s->remote.sin_port = htons(server ? 2 : 1);
	s->cfg = (QuicConfig){
		.server = server,
		.local = (struct sockaddr *)&s->local,
		.local_len = sizeof(s->local),
		.remote = (struct sockaddr *)&s->remote,
		.remote_len = sizeof(s->remote),
		.io = { side_send, NULL, s },
		.idle_timeout_ms = 5000,
		.handshake_timeout_ms = 5000,
		.ev = ev,
		.ud = s,
	};
	memcpy(s->cfg.proof_key, key, KEYS_LEN);
	if (pin != NULL) {
		s->cfg.pin_peer = TRUE;
		memcpy(s->cfg.peer_fp, pin, 32);
	}
	s->in_fd = memfd_with(data, len);
	s->out_fd = memfd_with(NULL, 0);
	s->watch = g_unix_fd_add(fd, G_IO_IN, on_socket, s);
}

static void
side_clear(Side *s)
{
	g_source_remove(s->watch);
	quic_conn_free(s->qc);
	close(s->fd);
	if (s->in_fd >= 0)
		close(s->in_fd);
	if (s->out_fd >= 0)
		close(s->out_fd);
}

static gboolean
on_bound(gpointer ud)
{
	gboolean *timed_out = ud;

	*timed_out = TRUE;
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

/* One connection: the viewer pins vpin as the host's certificate, the
 * host pins hpin as the viewer's; each sends its data. out_v and out_h
 * get dups of what each side received. FALSE when it hung. */
static gboolean
run(Side *v, Side *h, const uint8_t *vpin, const uint8_t *hpin,
    const uint8_t *vdata, size_t vlen, const uint8_t *hdata, size_t hlen,
    int *out_v, int *out_h)
{
	uint8_t key[KEYS_LEN];
	int sp[2];
	gboolean timed_out = FALSE;
	guint bound;
	g_autoptr(GError) error = NULL;

	memset(key, 0x5a, sizeof(key));
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) == -1) {
		perror("socketpair");
		exit(99);
	}
	side_init(v, "viewer", FALSE, sp[0], key, vpin, vdata, vlen);
	if (host_impostor)
		key[0] ^= 1;
	side_init(h, "host", TRUE, sp[1], key, hpin, hdata, hlen);
	*out_v = dup(v->out_fd);
	*out_h = dup(h->out_fd);
	sides[0] = v;
	sides[1] = h;
	loop = g_main_loop_new(NULL, FALSE);
	bound = g_timeout_add_seconds(20, on_bound, &timed_out);
	if ((v->qc = quic_conn_new_client(&v->cfg, &error)) == NULL) {
		diag("viewer: %s", error->message);
		exit(99);
	}
	g_main_loop_run(loop);
	if (!timed_out)
		g_source_remove(bound);
	g_main_loop_unref(loop);
	return !timed_out;
}

int
main(void)
{
	g_autoptr(GError) error = NULL;
	uint8_t fp[32], wrong[32];
	uint8_t *hdata = g_malloc(PAYLOAD_LEN);
	static const uint8_t vdata[] = "the viewer's bytes\n";
	Side v, h;
	int out_v, out_h;
	size_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..30\n");
	if (!quic_init(&error)) {
		printf("Bail out! %s\n", error->message);
		return 99;
	}
	for (size_t i = 0; i < PAYLOAD_LEN; i++)
		hdata[i] = (uint8_t)(i * 131 + (i >> 9));
	/* Both ends share this process's certificate: pinning its own
	 * fingerprint is right for either, and any other value is the
	 * fingerprint of some other certificate. */
	ok(quic_cert_fingerprint(fp), "the certificate has a fingerprint");
	memcpy(wrong, fp, sizeof(wrong));
	wrong[31] ^= 0x01;

	/* Positive control: the right fingerprint on both sides. */
	ok(run(&v, &h, fp, fp, vdata, sizeof(vdata) - 1, hdata, PAYLOAD_LEN,
	    &out_v, &out_h), "right fingerprints: the connection ends by itself");
	ok(v.ready && h.ready, "right fingerprints: both ends ready");
	ok(v.end.kind == QUIC_END_DONE && h.end.kind == QUIC_END_DONE,
	    "right fingerprints: both ends done");
	if (v.end.kind != QUIC_END_DONE || h.end.kind != QUIC_END_DONE)
		diag("viewer: %d %s; host: %d %s", v.end.kind, v.end.reason,
		    h.end.kind, h.end.reason);
	ok(content_is(out_v, hdata, PAYLOAD_LEN, &n),
	    "right fingerprints: the viewer got the host's bytes, identical");
	ok(content_is(out_h, vdata, sizeof(vdata) - 1, &n),
	    "right fingerprints: the host got the viewer's bytes, identical");
	side_clear(&v);
	side_clear(&h);
	close(out_v);
	close(out_h);

	/* An impostor host: its certificate is not the one the viewer
	 * pinned. The viewer stops in the handshake, before its Finished:
	 * the host never completes it either. */
	ok(run(&v, &h, wrong, fp, vdata, sizeof(vdata) - 1, hdata, PAYLOAD_LEN,
	    &out_v, &out_h), "impostor host: the connection ends by itself");
	ok(v.end.kind == QUIC_END_CERT, "impostor host: the viewer ends with QUIC_END_CERT");
	ok(strstr(v.end.reason, "certificate is not the pinned one") != NULL,
	    "impostor host: the viewer says why");
	diag("viewer: %s", v.end.reason);
	ok(!v.ready && !v.handshake, "impostor host: the viewer never completed the handshake");
	ok(!h.ready && !h.handshake, "impostor host: nor did the host");
	ok(content_is(out_v, NULL, 0, &n) && v.received == 0,
	    "impostor host: not one stream byte reached the viewer");
	ok(content_is(out_h, NULL, 0, &n) && h.received == 0,
	    "impostor host: the viewer sent it nothing, not even its proof");
	ok(h.end.kind == QUIC_END_ERROR &&
	    strstr(h.end.reason, "Certificate is bad") != NULL,
	    "impostor host: it learns its certificate was refused");
	diag("host: %s", h.end.reason);
	side_clear(&v);
	side_clear(&h);
	close(out_v);
	close(out_h);

	/* An impostor viewer: its certificate is not the one the sealed
	 * offer named. The host refuses its Finished: nothing after it, the
	 * proof and the stream, is taken. */
	ok(run(&v, &h, fp, wrong, vdata, sizeof(vdata) - 1, hdata, PAYLOAD_LEN,
	    &out_v, &out_h), "impostor viewer: the connection ends by itself");
	ok(h.end.kind == QUIC_END_CERT, "impostor viewer: the host ends with QUIC_END_CERT");
	diag("host: %s", h.end.reason);
	ok(!h.ready && !h.handshake, "impostor viewer: the host never completed the handshake");
	ok(content_is(out_h, NULL, 0, &n) && h.received == 0,
	    "impostor viewer: not one stream byte reached the host");
	ok(!v.ready && content_is(out_v, NULL, 0, &n) && v.received == 0,
	    "impostor viewer: not one stream byte reached the viewer");
	ok(v.end.kind == QUIC_END_ERROR &&
	    strstr(v.end.reason, "Certificate is bad") != NULL,
	    "impostor viewer: it learns its certificate was refused");
	diag("viewer: %s", v.end.reason);
	ok(h.sent == 0, "impostor viewer: the host sent no stream byte");
	side_clear(&v);
	side_clear(&h);
	close(out_v);
	close(out_h);

	/* The direct path: nothing pinned, the proof of the secret decides.
	 * A host that is full says so before either side proved anything;
	 * the viewer believes it only from a holder of the secret. */
	host_refuses = TRUE;
	ok(run(&v, &h, NULL, NULL, vdata, sizeof(vdata) - 1, hdata, PAYLOAD_LEN,
	    &out_v, &out_h), "full host: the connection ends by itself");
	ok(v.end.kind == QUIC_END_PEER && v.end.app_code == QUIC_APP_FULL &&
	    strcmp(v.end.reason, "1/1") == 0,
	    "full host: the viewer believes \"host is full (1/1)\"");
	diag("viewer: kind %d, code 0x%llx, \"%s\"", v.end.kind,
	    (unsigned long long)v.end.app_code, v.end.reason);
	ok(!v.ready && v.received == 0, "full host: no stream byte");
	side_clear(&v);
	side_clear(&h);
	close(out_v);
	close(out_h);

	host_impostor = TRUE;
	ok(run(&v, &h, NULL, NULL, vdata, sizeof(vdata) - 1, hdata, PAYLOAD_LEN,
	    &out_v, &out_h), "impostor claiming to be full: the connection ends by itself");
	ok(v.end.kind == QUIC_END_PROOF,
	    "impostor claiming to be full: the viewer does not believe it, the host did not prove the secret");
	ok(v.end.app_code != QUIC_APP_FULL || v.end.kind != QUIC_END_PEER,
	    "impostor claiming to be full: not taken for a full host");
	diag("viewer: kind %d, \"%s\"", v.end.kind, v.end.reason);
	ok(!v.ready && v.received == 0, "impostor claiming to be full: no stream byte");
	side_clear(&v);
	side_clear(&h);
	close(out_v);
	close(out_h);

	/* The impostor without a refusal: its proof is wrong. */
	host_refuses = FALSE;
	ok(run(&v, &h, NULL, NULL, vdata, sizeof(vdata) - 1, hdata, PAYLOAD_LEN,
	    &out_v, &out_h), "impostor host on the direct path: the connection ends by itself");
	ok((v.end.kind == QUIC_END_PROOF || v.end.kind == QUIC_END_PEER) &&
	    !v.ready && v.received == 0 && content_is(out_v, NULL, 0, &n),
	    "impostor host on the direct path: not one byte for the viewer");
	diag("viewer: kind %d, \"%s\"", v.end.kind, v.end.reason);
	side_clear(&v);
	side_clear(&h);
	close(out_v);
	close(out_h);

	g_free(hdata);
	return n_failed == 0 ? 0 : 1;
}
