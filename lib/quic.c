#include "quic.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* ngtcp2 1.0 renamed the connection-close error and the connection's
 * statistics, and gave stream shutdown a flags argument. Debian 12 has
 * 0.12.1 and Debian 13 has 1.11: this file speaks 1.x, and 0.12 gets the
 * same names here. */
#if NGTCP2_VERSION_NUM < 0x010000
typedef ngtcp2_connection_close_error ngtcp2_ccerr;
typedef ngtcp2_conn_stat ngtcp2_conn_info;
#define NGTCP2_CCERR_TYPE_APPLICATION \
	NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION
#define ngtcp2_ccerr_default ngtcp2_connection_close_error_default
#define ngtcp2_ccerr_set_application_error \
	ngtcp2_connection_close_error_set_application_error
#define ngtcp2_ccerr_set_tls_alert \
	ngtcp2_connection_close_error_set_transport_error_tls_alert
#define ngtcp2_ccerr_set_liberr \
	ngtcp2_connection_close_error_set_transport_error_liberr
#define ngtcp2_conn_get_conn_info ngtcp2_conn_get_conn_stat
#define conn_get_ccerr(conn, ccerr) \
	ngtcp2_conn_get_connection_close_error((conn), (ccerr))
#define conn_shutdown_stream_read(conn, sid, code) \
	ngtcp2_conn_shutdown_stream_read((conn), (sid), (code))
#define hd_token(hd) ((hd)->token.base)
#define hd_tokenlen(hd) ((hd)->token.len)
#else
#define conn_get_ccerr(conn, ccerr) \
	(*(ccerr) = *ngtcp2_conn_get_ccerr(conn))
#define conn_shutdown_stream_read(conn, sid, code) \
	ngtcp2_conn_shutdown_stream_read((conn), 0, (sid), (code))
#define hd_token(hd) ((hd)->token)
#define hd_tokenlen(hd) ((hd)->tokenlen)
#endif

/* TLS 1.3 only, with the ciphers QUIC defines; QUIC has no middlebox
 * compatibility mode. */
#define PRIORITY "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"

/* The exporter label for the proof of the secret (RFC 5705 / 8446 7.5). */
#define PROOF_EXPORTER "EXPORTER-pixelpass-direct-proof"
#define PROOF_LEN QUIC_PROOF_LEN

/* Windows: a 50 ms path at 100 Mbit/s needs 625 kB, but under loss the
 * in-order prefix waits a round trip or two for each retransmission while
 * the path goes on delivering what follows; at 2% loss and 600 Mbit/s the
 * unacknowledged span reaches 20 MB (bench/tunnel). ngtcp2 grows the
 * windows up to the maxima only while the reader keeps pace, so a reader
 * that stalls holds the small initial window: little memory, and the
 * backlog reaches pp-fanout soon enough for it to skip that viewer. */
#define STREAM_WINDOW (2u << 20)
#define CONN_WINDOW (4u << 20)
#define MAX_STREAM_WINDOW (32u << 20)
#define MAX_CONN_WINDOW (48u << 20)
/* Bytes read from in_fd and not yet acknowledged: beyond this we stop
 * reading, so a slow peer slows the producer and memory stays bounded. */
#define SEND_BOUND (32u << 20)
/* Bytes read from in_fd and not yet sent: at most a congestion window,
 * and at least this. A live stream on a path slower than itself then
 * backs up into its producer at once (pp-fanout skips such a viewer
 * forward to a keyframe) instead of queueing here for up to SEND_BOUND:
 * at 3 Mbit/s that was 11 s behind and growing (bench/latency). */
#define UNSENT_MIN (64u << 10)
#define CHUNK_SIZE (64u << 10)
#define MAX_PKT 1472
/* Packets per round before yielding to the main loop. */
#define BURST 64

typedef struct {
	uint8_t *data;
	size_t len, cap;
} Chunk;

/* A connection's life. It only moves forward, and every end goes through
 * conn_end (DRAINING, then ENDED); every close we send through conn_close. */
typedef enum {
	CONN_HANDSHAKE,	/* TLS under way */
	CONN_PROVING,	/* TLS done; the secret not yet proved both ways */
	CONN_OPEN,	/* both proved it: ready was told, the stream flows */
	CONN_CLOSING,	/* quic_conn_close_when_sent: the stream flows until
			 * the peer has acknowledged it, then the close */
	CONN_DRAINING,	/* the end is decided: nothing more is sent or read
			 * from the peer; its last bytes are written out */
	CONN_ENDED,	/* the ended event was told */
} ConnState;

/* The end is decided (DRAINING or ENDED). */
#define OVER(c)	((c)->state >= CONN_DRAINING)

struct QuicConn {
	QuicConfig cfg;
	struct sockaddr_storage local, remote;
	ngtcp2_conn *conn;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref ref;
	GSource *timer;
	guint proof_timer;	/* the peer must prove the secret by then */
	int in_cb;		/* inside an ngtcp2 call: defer closing */

	ConnState state;
	int64_t sid;		/* the one stream, -1 before it exists */
	gboolean proof_bad;	/* the peer's proof was wrong: close */
	gboolean cert_bad;	/* not the pinned certificate (cfg.pin_peer) */
	QuicProofRx rx_proof;
	gboolean attached;

	/* in_fd -> peer: chunks from head_off; acked <= sent <= read. */
	int in_fd;
	gboolean in_nonblock;	/* else one read per wakeup (a terminal) */
	guint in_watch;
	GQueue chunks;
	uint64_t head_off, acked_off, sent_off, read_off;
	gboolean in_eof, fin_sent, shut_wr;
	gboolean fin_released;	/* cfg.hold_fin_ms: FIN may go */
	guint fin_timer;
	/* quic_conn_close_when_sent (CONN_CLOSING): the close to send once
	 * all is acknowledged. */
	uint64_t cwa_code;
	char cwa_reason[256];
	guint cwa_timer;

	/* peer -> out_fd: what the fd did not take yet. */
	int out_fd;
	guint out_watch;
	GByteArray *pend;	/* written up to pend_pos */
	size_t pend_pos;
	gboolean rx_fin, out_done, out_discard;

	uint64_t tx_bytes, rx_bytes;
	gboolean stream_closed;

	/* A close asked for inside an ngtcp2 call, done after it. */
	gboolean pending_close;
	uint64_t pending_code;
	QuicEndKind pending_kind;
	char pending_reason[256];
	/* The CONNECTION_CLOSE we sent, repeated to the peer's late packets. */
	uint8_t close_pkt[MAX_PKT];
	size_t close_len;
	int close_resends;
	QuicEnd end;
};

static gnutls_certificate_credentials_t cred;

static size_t
pend_left(const QuicConn *c)
{
	return c->pend->len - c->pend_pos;
}
static uint8_t cert_sha256[32];
/* Seals this process's Retry tokens: a token is good only here. */
static uint8_t retry_secret[32];

static ngtcp2_tstamp
now_ts(void)
{
	return (ngtcp2_tstamp)g_get_monotonic_time() * 1000;
}

gboolean
quic_init(GError **error)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	uint8_t serial[16];
	time_t now = time(NULL);
	int rv;

	if (cred != NULL)
		return TRUE;
	gnutls_rnd(GNUTLS_RND_KEY, retry_secret, sizeof(retry_secret));
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	/* A fresh self-signed certificate per run: nobody verifies it by a
	 * CA; the proof of the secret (or, later, a pinned fingerprint)
	 * authenticates the peer. */
	if ((rv = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rv = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rv = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rv = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rv = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rv = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rv = gnutls_x509_crt_set_expiration_time(crt, now + 30 * 86400)) < 0 ||
	    (rv = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, "pixelpass", strlen("pixelpass"))) < 0 ||
	    (rv = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rv = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rv = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256,
	    cert_sha256, &(size_t){ sizeof(cert_sha256) })) < 0 ||
	    (rv = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (rv = gnutls_certificate_set_x509_key(cred, &crt, 1, key)) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "cannot make a certificate: %s", gnutls_strerror(rv));
		if (cred != NULL)
			gnutls_certificate_free_credentials(cred);
		cred = NULL;
	}
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return cred != NULL;
}

gboolean
quic_cert_fingerprint(uint8_t out[32])
{
	if (cred == NULL)
		return FALSE;
	memcpy(out, cert_sha256, sizeof(cert_sha256));
	return TRUE;
}

gboolean
quic_conn_peer_fingerprint(QuicConn *c, uint8_t out[32])
{
	const gnutls_datum_t *der;
	unsigned n = 0;

	if (c->tls == NULL ||
	    (der = gnutls_certificate_get_peers(c->tls, &n)) == NULL || n == 0)
		return FALSE;
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, der[0].data, der[0].size,
	    out) == 0;
}

/* gnutls calls this in the handshake once the peer's Certificate and
 * CertificateVerify are in (so it holds the key): non-zero fails the
 * handshake with a bad_certificate alert. Nobody vouches for a
 * self-signed certificate; the pinned fingerprint came through
 * signaling sealed with the ticket's secret. */
static int
verify_pin(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	QuicConn *c = ref->user_data;
	uint8_t fp[32];

	if (quic_conn_peer_fingerprint(c, fp) &&
	    keys_equal(fp, c->cfg.peer_fp, sizeof(fp)))
		return 0;
	c->cert_bad = TRUE;
	return -1;
}

/* --- small helpers ------------------------------------------------------ */

static void
io_flush(QuicConn *c)
{
	if (c->cfg.io.flush != NULL)
		c->cfg.io.flush(c->cfg.io.ctx);
}

static void
io_send_now(QuicConn *c, const uint8_t *pkt, size_t len)
{
	c->cfg.io.send(c->cfg.io.ctx, pkt, len);
	io_flush(c);
}

static void conn_write(QuicConn *c);
static void conn_end(QuicConn *c, QuicEndKind kind, uint64_t code,
    const char *reason);
static void conn_ended(QuicConn *c);
static void do_close(QuicConn *c, uint64_t code, const char *reason,
    QuicEndKind kind);
static void in_resume(QuicConn *c);
static void out_flush(QuicConn *c);

static void
timer_update(QuicConn *c)
{
	ngtcp2_tstamp exp;

	if (c->timer == NULL)
		return;
	if (OVER(c)) {
		g_source_set_ready_time(c->timer, -1);
		return;
	}
	exp = ngtcp2_conn_get_expiry(c->conn);
	if (exp == UINT64_MAX)
		g_source_set_ready_time(c->timer, -1);
	else
		g_source_set_ready_time(c->timer, (gint64)((exp + 999) / 1000));
}

static void
consumed(QuicConn *c, size_t n)
{
	if (n == 0 || c->sid < 0 || OVER(c))
		return;
	ngtcp2_conn_extend_max_stream_offset(c->conn, c->sid, n);
	ngtcp2_conn_extend_max_offset(c->conn, n);
}

static gboolean
make_proof(QuicConn *c, gboolean server_role, uint8_t out[PROOF_LEN])
{
	/* HMAC over this connection's exporter value: a relay with its own
	 * TLS session to each side has two different exporters and cannot
	 * pass a proof on. The role keeps one side's proof from serving as
	 * the other's. */
	uint8_t msg[16 + PROOF_LEN];
	const char *role = server_role ? "pixelpass host  " : "pixelpass viewer";

	memcpy(msg, role, 16);
	if (gnutls_prf_rfc5705(c->tls, strlen(PROOF_EXPORTER), PROOF_EXPORTER,
	    0, NULL, PROOF_LEN, (char *)msg + 16) < 0)
		return FALSE;
	return keys_hmac(c->cfg.proof_key, msg, sizeof(msg), out);
}

/* The host's CONNECTION_CLOSE may come before either side proved the
 * secret (host is full, a refused proof): its reason phrase then ends
 * with " " and CLOSE_TAG_LEN hex digits of an HMAC, keyed like the proof,
 * over this connection's exporter value, the code and the reason, so
 * that a viewer believes only a refusal from a holder of the secret. */
#define CLOSE_TAG_LEN 16

static gboolean
close_tag(QuicConn *c, uint64_t code, const uint8_t *reason, size_t len,
    char hex[2 * CLOSE_TAG_LEN + 1])
{
	g_autofree uint8_t *msg = g_malloc(16 + PROOF_LEN + 8 + len);
	uint8_t mac[KEYS_LEN];

	memcpy(msg, "pixelpass close ", 16);
	if (c->tls == NULL || gnutls_prf_rfc5705(c->tls, strlen(PROOF_EXPORTER),
	    PROOF_EXPORTER, 0, NULL, PROOF_LEN, (char *)msg + 16) < 0)
		return FALSE;
	for (int i = 0; i < 8; i++)
		msg[16 + PROOF_LEN + i] = (uint8_t)(code >> (56 - 8 * i));
	if (len > 0)
		memcpy(msg + 16 + PROOF_LEN + 8, reason, len);
	if (!keys_hmac(c->cfg.proof_key, msg, 16 + PROOF_LEN + 8 + len, mac))
		return FALSE;
	for (int i = 0; i < CLOSE_TAG_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return TRUE;
}

/* Whether the peer's close (its reason, *len bytes) carries a good tag;
 * if so *len drops the tag. */
static gboolean
close_tag_ok(QuicConn *c, uint64_t code, const uint8_t *reason, size_t *len)
{
	char want[2 * CLOSE_TAG_LEN + 1];
	size_t n = *len;

	if (n < 2 * CLOSE_TAG_LEN + 1 || reason[n - 2 * CLOSE_TAG_LEN - 1] != ' ')
		return FALSE;
	n -= 2 * CLOSE_TAG_LEN + 1;
	if (!close_tag(c, code, reason, n, want) ||
	    !keys_equal((const uint8_t *)want, reason + n + 1, 2 * CLOSE_TAG_LEN))
		return FALSE;
	*len = n;
	return TRUE;
}

static void
chunk_free(gpointer p)
{
	Chunk *ch = p;

	g_free(ch->data);
	g_free(ch);
}

static Chunk *
chunk_tail(QuicConn *c, size_t want)
{
	Chunk *ch = g_queue_peek_tail(&c->chunks);

	if (ch == NULL || ch->len == ch->cap) {
		ch = g_new0(Chunk, 1);
		ch->cap = MAX(want, CHUNK_SIZE);
		ch->data = g_malloc(ch->cap);
		g_queue_push_tail(&c->chunks, ch);
	}
	return ch;
}

static void
queue_bytes(QuicConn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		Chunk *ch = chunk_tail(c, n);
		size_t k = MIN(n, ch->cap - ch->len);

		memcpy(ch->data + ch->len, p, k);
		ch->len += k;
		c->read_off += k;
		p += k;
		n -= k;
	}
}

static gboolean
queue_proof(QuicConn *c)
{
	uint8_t proof[PROOF_LEN];

	if (!make_proof(c, c->cfg.server, proof))
		return FALSE;
	queue_bytes(c, proof, sizeof(proof));
	return TRUE;
}

static void
free_acked(QuicConn *c)
{
	Chunk *ch;

	/* ngtcp2 keeps pointers into what it sent until it is acknowledged. */
	while ((ch = g_queue_peek_head(&c->chunks)) != NULL &&
	    c->head_off + ch->len <= c->acked_off && ch->len == ch->cap) {
		c->head_off += ch->len;
		chunk_free(g_queue_pop_head(&c->chunks));
	}
	if ((ch = g_queue_peek_head(&c->chunks)) != NULL &&
	    g_queue_get_length(&c->chunks) == 1 &&
	    c->head_off + ch->len <= c->acked_off) {
		/* The last, partly filled chunk is all acknowledged: reuse it. */
		c->head_off += ch->len;
		ch->len = 0;
	}
}

/* --- in_fd -> stream ---------------------------------------------------- */

static void
in_stop(QuicConn *c)
{
	if (c->in_watch != 0)
		g_source_remove(c->in_watch);
	c->in_watch = 0;
}

static void
in_close(QuicConn *c)
{
	in_stop(c);
	if (c->in_fd >= 0)
		close(c->in_fd);
	c->in_fd = -1;
}

/* Whether to read more of in_fd now: see SEND_BOUND and UNSENT_MIN. */
static gboolean
in_wanted(QuicConn *c)
{
	ngtcp2_conn_info st;
	uint64_t bound = UNSENT_MIN;

	if (c->read_off - c->acked_off >= SEND_BOUND)
		return FALSE;
	if (c->conn != NULL) {
		ngtcp2_conn_get_conn_info(c->conn, &st);
		if (st.cwnd > bound)
			bound = st.cwnd;
	}
	return c->read_off - c->sent_off < bound;
}

static void conn_write(QuicConn *c);
static void do_close(QuicConn *c, uint64_t code, const char *reason,
    QuicEndKind kind);

static gboolean
on_fin_timer(gpointer ud)
{
	QuicConn *c = ud;

	c->fin_timer = 0;
	quic_conn_end_input(c);
	return G_SOURCE_REMOVE;
}

/* quic_conn_close_when_sent: everything read is acknowledged. */
static void
check_acked_close(QuicConn *c)
{
	if (c->state == CONN_CLOSING && c->in_eof &&
	    c->acked_off >= c->read_off)
		do_close(c, c->cwa_code, c->cwa_reason, QUIC_END_LOCAL);
}

static gboolean
on_in(int fd, GIOCondition cond, gpointer ud)
{
	QuicConn *c = ud;

	for (int i = 0; i < (c->in_nonblock ? 16 : 1) && in_wanted(c); i++) {
		Chunk *ch = chunk_tail(c, CHUNK_SIZE);
		ssize_t n = read(fd, ch->data + ch->len, ch->cap - ch->len);

		if (n > 0) {
			ch->len += n;
			c->read_off += n;
			c->tx_bytes += n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1)
			log_debug("reading the stream's input: %s", g_strerror(errno));
		c->in_eof = TRUE;
		c->in_watch = 0;
		in_close(c);
		if (c->cfg.hold_fin_ms > 0 && !c->fin_released &&
		    c->fin_timer == 0)
			c->fin_timer = g_timeout_add(c->cfg.hold_fin_ms,
			    on_fin_timer, c);
		check_acked_close(c);
		if (!OVER(c))
			conn_write(c);
		return G_SOURCE_REMOVE;
	}
	if (!in_wanted(c)) {
		c->in_watch = 0;
		conn_write(c);
		return G_SOURCE_REMOVE;
	}
	conn_write(c);
	return G_SOURCE_CONTINUE;
}

static void
in_resume(QuicConn *c)
{
	if (c->in_fd < 0 || c->in_watch != 0 || c->in_eof || c->shut_wr ||
	    c->state < CONN_OPEN || OVER(c) || !in_wanted(c))
		return;
	c->in_watch = g_unix_fd_add(c->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
	    on_in, c);
}

/* --- stream -> out_fd --------------------------------------------------- */

static void
out_stop(QuicConn *c)
{
	if (c->out_watch != 0)
		g_source_remove(c->out_watch);
	c->out_watch = 0;
}

static void
out_finish(QuicConn *c)
{
	out_stop(c);
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	c->out_done = TRUE;
	g_byte_array_set_size(c->pend, 0);
	c->pend_pos = 0;
}

static void
check_done(QuicConn *c)
{
	if (c->state == CONN_DRAINING && (c->out_done || pend_left(c) == 0)) {
		conn_ended(c);
		return;
	}
	if (((c->stream_closed && c->out_done) ||
	    (c->cfg.close_after_peer_fin && c->rx_fin && c->out_done)) &&
	    !OVER(c))
		do_close(c, QUIC_APP_OK, "done", QUIC_END_DONE);
}

static gboolean
on_out(int fd, GIOCondition cond, gpointer ud)
{
	QuicConn *c = ud;

	c->out_watch = 0;
	out_flush(c);
	return G_SOURCE_REMOVE;
}

/* Writes what is pending; extends the peer's window by what went out. */
static void
out_flush(QuicConn *c)
{
	size_t done = 0;

	while (c->out_fd >= 0 && done < pend_left(c)) {
		ssize_t n = write(c->out_fd, c->pend->data + c->pend_pos + done,
		    pend_left(c) - done);

		if (n > 0) {
			done += n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (c->out_watch == 0)
				c->out_watch = g_unix_fd_add(c->out_fd,
				    G_IO_OUT | G_IO_ERR | G_IO_HUP, on_out, c);
			break;
		}
		/* EPIPE: the reader went away. Stop the peer's sending
		 * and drop what comes. */
		log_debug("writing the stream's output: %s", g_strerror(errno));
		done = pend_left(c);
		c->out_discard = TRUE;
		out_finish(c);
		if (c->cfg.close_when_output_gone && c->in_cb == 0) {
			do_close(c, QUIC_APP_OK, "output closed", QUIC_END_LOCAL);
			return;
		}
		if (c->sid >= 0 && !OVER(c) && !c->rx_fin) {
			c->in_cb++;
			conn_shutdown_stream_read(c->conn, c->sid,
			    QUIC_APP_OK);
			c->in_cb--;
		}
		break;
	}
	/* Moved down only now and then: a slow reader takes 64 kB a time. */
	c->pend_pos += MIN(done, pend_left(c));
	if (pend_left(c) == 0) {
		g_byte_array_set_size(c->pend, 0);
		c->pend_pos = 0;
	} else if (c->pend_pos > (1u << 20)) {
		g_byte_array_remove_range(c->pend, 0, c->pend_pos);
		c->pend_pos = 0;
	}
	if (!OVER(c))
		consumed(c, done);
	if (c->rx_fin && pend_left(c) == 0 && c->out_fd >= 0)
		out_finish(c);
	if (c->in_cb == 0) {
		check_done(c);
		if (!OVER(c))
			conn_write(c);
	}
}

static void
out_push(QuicConn *c, const uint8_t *data, size_t len)
{
	c->rx_bytes += len;
	if (c->out_discard || (c->attached && c->out_fd < 0)) {
		consumed(c, len);
		return;
	}
	/* Gathered, and written once per turn of the main loop (on_timer)
	 * rather than once per packet. */
	g_byte_array_append(c->pend, data, len);
	if (c->timer != NULL)
		g_source_set_ready_time(c->timer, 0);
}

/* --- ngtcp2 callbacks --------------------------------------------------- */

static ngtcp2_conn *
get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((QuicConn *)ref->user_data)->conn;
}

static void
cb_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

static int
cb_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
    void *ud)
{
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	return 0;
}

static gboolean
on_proof_deadline(gpointer ud)
{
	QuicConn *c = ud;

	/* A peer that finished TLS but never proves the secret would hold a
	 * place (and a viewer slot) until the idle timeout. */
	c->proof_timer = 0;
	if (c->state < CONN_OPEN) {
		c->proof_bad = TRUE;
		do_close(c, QUIC_APP_REFUSED, "the secret was not proved in time",
		    QUIC_END_PROOF);
	}
	return G_SOURCE_REMOVE;
}

static int
cb_handshake_completed(ngtcp2_conn *conn, void *ud)
{
	QuicConn *c = ud;

	c->state = CONN_PROVING;
	c->proof_timer = g_timeout_add(c->cfg.handshake_timeout_ms ?
	    c->cfg.handshake_timeout_ms : 10000, on_proof_deadline, c);

	if (!c->cfg.server) {
		/* The viewer opens the stream and proves first; the host
		 * says nothing until it has checked that proof. */
		if (ngtcp2_conn_open_bidi_stream(conn, &c->sid, NULL) != 0 ||
		    !queue_proof(c))
			return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	if (c->cfg.ev.handshake_done != NULL)
		c->cfg.ev.handshake_done(c, c->cfg.ud);
	return 0;
}

static int
cb_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t offset, const uint8_t *data, size_t len, void *ud, void *sud)
{
	QuicConn *c = ud;

	if (c->sid < 0 && c->cfg.server && ngtcp2_is_bidi_stream(sid))
		c->sid = sid;
	if (sid != c->sid || c->proof_bad || OVER(c) || c->pending_close) {
		ngtcp2_conn_extend_max_stream_offset(conn, sid, len);
		ngtcp2_conn_extend_max_offset(conn, len);
		return 0;
	}
	if (c->state < CONN_OPEN) {
		size_t k;
		uint8_t want[PROOF_LEN];
		QuicProofState st = quic_proof_take(&c->rx_proof, data, len,
		    (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0, &k);

		consumed(c, k);
		data += k;
		len -= k;
		if (st == QUIC_PROOF_SHORT)
			c->proof_bad = TRUE;
		if (st != QUIC_PROOF_WHOLE)
			return 0;
		if (!make_proof(c, !c->cfg.server, want) ||
		    !keys_equal(want, c->rx_proof.buf, PROOF_LEN)) {
			c->proof_bad = TRUE;
			return 0;
		}
		c->state = CONN_OPEN;
		if (c->cfg.server && !queue_proof(c))
			return NGTCP2_ERR_CALLBACK_FAILURE;
		if (c->cfg.ev.ready != NULL)
			c->cfg.ev.ready(c, c->cfg.ud);
	}
	if (len > 0)
		out_push(c, data, len);
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN) {
		c->rx_fin = TRUE;
		if (pend_left(c) == 0 && (c->out_fd >= 0 || c->attached))
			out_finish(c);
	}
	return 0;
}

static int
cb_acked(ngtcp2_conn *conn, int64_t sid, uint64_t offset, uint64_t len,
    void *ud, void *sud)
{
	QuicConn *c = ud;

	if (sid != c->sid)
		return 0;
	if (offset + len > c->acked_off)
		c->acked_off = offset + len;
	free_acked(c);
	in_resume(c);
	check_acked_close(c);	/* inside a callback: after_callbacks closes */
	return 0;
}

static int
cb_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t code, void *ud, void *sud)
{
	QuicConn *c = ud;

	if (sid == c->sid) {
		c->stream_closed = TRUE;
		if (!c->rx_fin) {
			c->rx_fin = TRUE;
			if (pend_left(c) == 0)
				out_finish(c);
		}
	}
	return 0;
}

static int
cb_stream_reset(ngtcp2_conn *conn, int64_t sid, uint64_t final_size,
    uint64_t code, void *ud, void *sud)
{
	QuicConn *c = ud;

	/* The peer abandoned its direction: what came is all there is. */
	if (sid == c->sid && !c->rx_fin) {
		c->rx_fin = TRUE;
		if (pend_left(c) == 0)
			out_finish(c);
	}
	return 0;
}

static void
set_callbacks(ngtcp2_callbacks *cb, gboolean server)
{
	memset(cb, 0, sizeof(*cb));
	if (server)
		cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	else {
		cb->client_initial = ngtcp2_crypto_client_initial_cb;
		cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
	}
	cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	cb->encrypt = ngtcp2_crypto_encrypt_cb;
	cb->decrypt = ngtcp2_crypto_decrypt_cb;
	cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
	cb->update_key = ngtcp2_crypto_update_key_cb;
	cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
	cb->rand = cb_rand;
	cb->get_new_connection_id = cb_new_cid;
	cb->handshake_completed = cb_handshake_completed;
	cb->recv_stream_data = cb_recv_stream_data;
	cb->acked_stream_data_offset = cb_acked;
	cb->stream_close = cb_stream_close;
	cb->stream_reset = cb_stream_reset;
}

/* --- connection --------------------------------------------------------- */

static gboolean
on_timer(gpointer ud)
{
	QuicConn *c = ud;
	int rv;

	g_source_set_ready_time(c->timer, -1);
	if (pend_left(c) > 0 && c->out_fd >= 0 && c->out_watch == 0 &&
	    !OVER(c))
		out_flush(c);
	if (OVER(c))
		return G_SOURCE_CONTINUE;
	c->in_cb++;
	rv = ngtcp2_conn_handle_expiry(c->conn, now_ts());
	c->in_cb--;
	if (rv == NGTCP2_ERR_IDLE_CLOSE) {
		conn_end(c, QUIC_END_IDLE, 0, "idle timeout");
		return G_SOURCE_CONTINUE;
	}
	if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		conn_end(c, QUIC_END_HANDSHAKE, 0, "handshake timeout");
		return G_SOURCE_CONTINUE;
	}
	if (rv != 0) {
		conn_end(c, QUIC_END_ERROR, 0, ngtcp2_strerror(rv));
		return G_SOURCE_CONTINUE;
	}
	conn_write(c);
	return G_SOURCE_CONTINUE;
}

static gboolean
timer_dispatch(GSource *s, GSourceFunc cb, gpointer ud)
{
	return cb(ud);
}

static GSourceFuncs timer_funcs = { .dispatch = timer_dispatch };

static QuicConn *
conn_alloc(const QuicConfig *cfg)
{
	QuicConn *c = g_new0(QuicConn, 1);

	c->cfg = *cfg;
	memcpy(&c->local, cfg->local, cfg->local_len);
	memcpy(&c->remote, cfg->remote, cfg->remote_len);
	c->cfg.local = (struct sockaddr *)&c->local;
	c->cfg.remote = (struct sockaddr *)&c->remote;
	c->sid = -1;
	c->in_fd = c->out_fd = -1;
	c->pend = g_byte_array_new();
	g_queue_init(&c->chunks);
	c->ref.get_conn = get_conn;
	c->ref.user_data = c;
	return c;
}

static void
quic_trace(void *ud, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
fill_settings(QuicConn *c, ngtcp2_settings *s, ngtcp2_transport_params *p)
{
	guint idle = c->cfg.idle_timeout_ms ? c->cfg.idle_timeout_ms : 30000;
	size_t max;

	ngtcp2_settings_default(s);
	/* ngtcp2's own trace of every frame, for debugging. */
	if (g_getenv("PP_QUIC_TRACE") != NULL)
		s->log_printf = quic_trace;
	s->initial_ts = now_ts();
	s->cc_algo = NGTCP2_CC_ALGO_BBR;
	/* Without shaping off, ngtcp2 0.12 starts at 1200-byte packets and
	 * probes upwards. 1472 fills a 1500-byte IPv4 packet, 1452 an IPv6
	 * one; the route's own MTU may be less. */
	max = c->remote.ss_family == AF_INET6 ? MAX_PKT - 20 : MAX_PKT;
	s->max_tx_udp_payload_size = c->cfg.max_udp_payload ?
	    MIN(c->cfg.max_udp_payload, max) : max;
	s->no_tx_udp_payload_size_shaping = !c->cfg.probe_mtu;
	s->max_stream_window = MAX_STREAM_WINDOW;
	s->max_window = MAX_CONN_WINDOW;
	s->handshake_timeout = (ngtcp2_duration)(c->cfg.handshake_timeout_ms ?
	    c->cfg.handshake_timeout_ms : 10000) * NGTCP2_MILLISECONDS;

	ngtcp2_transport_params_default(p);
	p->initial_max_stream_data_bidi_local = STREAM_WINDOW;
	p->initial_max_stream_data_bidi_remote = STREAM_WINDOW;
	p->initial_max_data = CONN_WINDOW;
	p->initial_max_streams_bidi = c->cfg.server ? 1 : 0;
	p->initial_max_streams_uni = 0;
	p->max_idle_timeout = (ngtcp2_duration)idle * NGTCP2_MILLISECONDS;
}

static gboolean
conn_setup(QuicConn *c, GError **error)
{
	guint idle = c->cfg.idle_timeout_ms ? c->cfg.idle_timeout_ms : 30000;
	gnutls_datum_t alpn = { (unsigned char *)QUIC_ALPN, strlen(QUIC_ALPN) };
	int rv;

	/* Keep-alives well inside the idle timeout and a NAT's UDP binding
	 * (often 30 s): a quiet stream does not lose its path. */
	ngtcp2_conn_set_keep_alive_timeout(c->conn,
	    (ngtcp2_duration)MIN(idle / 3, 10000) * NGTCP2_MILLISECONDS);
	if ((rv = gnutls_init(&c->tls, (c->cfg.server ? GNUTLS_SERVER :
	    GNUTLS_CLIENT) | GNUTLS_ENABLE_EARLY_DATA |
	    GNUTLS_NO_END_OF_EARLY_DATA)) < 0 ||
	    (rv = gnutls_priority_set_direct(c->tls, PRIORITY, NULL)) < 0 ||
	    (rv = (c->cfg.server ?
	    ngtcp2_crypto_gnutls_configure_server_session(c->tls) :
	    ngtcp2_crypto_gnutls_configure_client_session(c->tls))) < 0 ||
	    (rv = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, cred)) < 0 ||
	    (rv = gnutls_alpn_set_protocols(c->tls, &alpn, 1,
	    GNUTLS_ALPN_MANDATORY)) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "TLS setup failed: %s", gnutls_strerror(rv));
		return FALSE;
	}
	if (c->cfg.server)
		gnutls_certificate_server_set_request(c->tls, c->cfg.pin_peer ?
		    GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
	if (c->cfg.pin_peer)
		gnutls_session_set_verify_function(c->tls, verify_pin);
	gnutls_session_set_ptr(c->tls, &c->ref);
	ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
	c->timer = g_source_new(&timer_funcs, sizeof(GSource));
	g_source_set_callback(c->timer, on_timer, c, NULL);
	g_source_attach(c->timer, NULL);
	return TRUE;
}

static ngtcp2_path
conn_path(QuicConn *c)
{
	ngtcp2_path path = {
		.local = { (ngtcp2_sockaddr *)&c->local, c->cfg.local_len },
		.remote = { (ngtcp2_sockaddr *)&c->remote, c->cfg.remote_len },
	};

	return path;
}

QuicConn *
quic_conn_new_client(const QuicConfig *cfg, GError **error)
{
	QuicConn *c = conn_alloc(cfg);
	ngtcp2_callbacks cb;
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	ngtcp2_cid dcid, scid;
	ngtcp2_path path = conn_path(c);
	int rv;

	set_callbacks(&cb, FALSE);
	fill_settings(c, &s, &p);
	dcid.datalen = 18;
	scid.datalen = 16;
	gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen);
	gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
	rv = ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &path,
	    NGTCP2_PROTO_VER_V1, &cb, &s, &p, NULL, c);
	if (rv != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "QUIC setup failed: %s", ngtcp2_strerror(rv));
		quic_conn_free(c);
		return NULL;
	}
	if (!conn_setup(c, error)) {
		quic_conn_free(c);
		return NULL;
	}
	conn_write(c);
	return c;
}

/* How long a Retry token stays good: one round trip is all it needs. */
#define RETRY_TOKEN_TIMEOUT (10 * NGTCP2_SECONDS)

QuicFirstKind
quic_first_datagram(const uint8_t *pkt, size_t len,
    const struct sockaddr *from, socklen_t from_len, QuicAddrProof *proof,
    uint8_t retry[QUIC_RETRY_MAX], size_t *retry_len)
{
	ngtcp2_pkt_hd hd;
	ngtcp2_cid scid, odcid;
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	ngtcp2_ssize n;

	if (ngtcp2_accept(&hd, pkt, len) != 0 || hd.type != NGTCP2_PKT_INITIAL)
		return QUIC_FIRST_IGNORE;
	if (hd_tokenlen(&hd) == 0) {
		scid.datalen = 16;
		gnutls_rnd(GNUTLS_RND_NONCE, scid.data, scid.datalen);
		n = ngtcp2_crypto_generate_retry_token(token, retry_secret,
		    sizeof(retry_secret), hd.version, (const ngtcp2_sockaddr *)from,
		    from_len, &scid, &hd.dcid, now_ts());
		if (n < 0)
			return QUIC_FIRST_IGNORE;
		n = ngtcp2_crypto_write_retry(retry, QUIC_RETRY_MAX, hd.version,
		    &hd.scid, &scid, &hd.dcid, token, (size_t)n);
		if (n < 0)
			return QUIC_FIRST_IGNORE;
		*retry_len = (size_t)n;
		return QUIC_FIRST_RETRY;
	}
	if (ngtcp2_crypto_verify_retry_token(&odcid, hd_token(&hd),
	    hd_tokenlen(&hd), retry_secret, sizeof(retry_secret), hd.version,
	    (const ngtcp2_sockaddr *)from, from_len, &hd.dcid,
	    RETRY_TOKEN_TIMEOUT, now_ts()) != 0)
		return QUIC_FIRST_BAD_TOKEN;
	G_STATIC_ASSERT(sizeof(proof->odcid) == NGTCP2_MAX_CIDLEN);
	memcpy(proof->odcid, odcid.data, odcid.datalen);
	proof->odcid_len = odcid.datalen;
	return QUIC_FIRST_VALID;
}

QuicConn *
quic_conn_new_server(const QuicConfig *cfg, const uint8_t *pkt, size_t len,
    GError **error)
{
	QuicConn *c;
	ngtcp2_callbacks cb;
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	ngtcp2_pkt_hd hd;
	ngtcp2_cid scid;
	ngtcp2_path path;
	int rv;

	if (ngtcp2_accept(&hd, pkt, len) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "not a QUIC Initial packet");
		return NULL;
	}
	c = conn_alloc(cfg);
	path = conn_path(c);
	set_callbacks(&cb, TRUE);
	fill_settings(c, &s, &p);
	p.original_dcid = hd.dcid;
	if (cfg->addr_proof != NULL) {
		/* After our Retry: the client's first DCID, which the token
		 * kept, and the one our Retry gave it. */
		memcpy(p.original_dcid.data, cfg->addr_proof->odcid,
		    cfg->addr_proof->odcid_len);
		p.original_dcid.datalen = cfg->addr_proof->odcid_len;
		p.retry_scid = hd.dcid;
		p.retry_scid_present = 1;
		/* The address is proven: no 3x limit on what we send it. */
#if NGTCP2_VERSION_NUM >= 0x010000
		s.token = hd_token(&hd);
		s.tokenlen = hd_tokenlen(&hd);
		s.token_type = NGTCP2_TOKEN_TYPE_RETRY;
#else
		s.token = (ngtcp2_vec){ (uint8_t *)hd_token(&hd), hd_tokenlen(&hd) };
#endif
	}
#if NGTCP2_VERSION_NUM >= 0x010000
	/* 1.x asks a server to say so; 0.12 took it as always there. */
	p.original_dcid_present = 1;
#endif
	p.stateless_reset_token_present = 1;
	gnutls_rnd(GNUTLS_RND_RANDOM, p.stateless_reset_token,
	    sizeof(p.stateless_reset_token));
	scid.datalen = 16;
	gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
	rv = ngtcp2_conn_server_new(&c->conn, &hd.scid, &scid, &path,
	    hd.version, &cb, &s, &p, NULL, c);
	if (rv != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "QUIC setup failed: %s", ngtcp2_strerror(rv));
		quic_conn_free(c);
		return NULL;
	}
	if (!conn_setup(c, error)) {
		quic_conn_free(c);
		return NULL;
	}
	quic_conn_recv(c, pkt, len);
	return c;
}

/* DRAINING is over: fds closed, then the ended event. */
static void
conn_ended(QuicConn *c)
{
	out_finish(c);
	if (c->timer != NULL)
		g_source_set_ready_time(c->timer, -1);
	c->state = CONN_ENDED;
	if (c->cfg.ev.ended != NULL)
		c->cfg.ev.ended(c, &c->end, c->cfg.ud);
}

/* The end, once: DRAINING until what the peer sent is written out (after
 * a clean end), then ENDED. */
static void
conn_end(QuicConn *c, QuicEndKind kind, uint64_t code, const char *reason)
{
	if (OVER(c))
		return;
	c->state = CONN_DRAINING;
	c->end.kind = kind;
	c->end.app_code = code;
	g_strlcpy(c->end.reason, reason ? reason : "", sizeof(c->end.reason));
	in_close(c);
	/* The stream is written out before the end is told: after a clean
	 * end, and after a host's failure, which it sent when all the
	 * stream before it was acknowledged (quic_conn_close_when_sent). */
	if ((kind == QUIC_END_DONE || (kind == QUIC_END_PEER &&
	    code == QUIC_APP_HOST_FAILED)) && pend_left(c) > 0 &&
	    c->out_fd >= 0) {
		/* check_done ends it once written */
		if (c->out_watch == 0)
			c->out_watch = g_unix_fd_add(c->out_fd,
			    G_IO_OUT | G_IO_ERR | G_IO_HUP, on_out, c);
		return;
	}
	conn_ended(c);
}

/* Sends CONNECTION_CLOSE (kept, to say it again to late packets), then
 * the end. The one way a close of ours leaves. */
static void
conn_close(QuicConn *c, const ngtcp2_ccerr *ccerr,
    QuicEndKind kind, uint64_t code, const char *reason)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n;

	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi,
	    c->close_pkt, sizeof(c->close_pkt), ccerr, now_ts());
	if (n > 0) {
		c->close_len = n;
		io_send_now(c, c->close_pkt, n);
	}
	conn_end(c, kind, code, reason);
}

static void
do_close(QuicConn *c, uint64_t code, const char *reason, QuicEndKind kind)
{
	char phrase[320], tag[2 * CLOSE_TAG_LEN + 1];
	ngtcp2_ccerr ccerr;

	if (OVER(c))
		return;
	if (c->in_cb > 0) {
		if (!c->pending_close) {
			c->pending_close = TRUE;
			c->pending_code = code;
			c->pending_kind = kind;
			g_strlcpy(c->pending_reason, reason, sizeof(c->pending_reason));
		}
		return;
	}
	ngtcp2_ccerr_default(&ccerr);
	g_strlcpy(phrase, reason, sizeof(phrase));
	if (c->cfg.server) {
		char base[240];

		g_strlcpy(base, reason, sizeof(base));
		if (close_tag(c, code, (const uint8_t *)base, strlen(base), tag))
			snprintf(phrase, sizeof(phrase), "%s %s", base, tag);
	}
	ngtcp2_ccerr_set_application_error(&ccerr, code,
	    (const uint8_t *)phrase, strlen(phrase));
	conn_close(c, &ccerr, kind, code, reason);
}

void
quic_conn_end_input(QuicConn *c)
{
	if (c->fin_timer != 0)
		g_source_remove(c->fin_timer);
	c->fin_timer = 0;
	c->fin_released = TRUE;
	if (!OVER(c) && c->conn != NULL && c->in_cb == 0)
		conn_write(c);
}

static gboolean
on_cwa_timer(gpointer ud)
{
	QuicConn *c = ud;

	c->cwa_timer = 0;
	if (c->state == CONN_CLOSING) {
		log_debug("the peer did not acknowledge the stream in time: closing anyway");
		do_close(c, c->cwa_code, c->cwa_reason, QUIC_END_LOCAL);
	}
	return G_SOURCE_REMOVE;
}

void
quic_conn_close_when_sent(QuicConn *c, uint64_t code, const char *reason,
    guint timeout_ms)
{
	if (c->state == CONN_CLOSING || OVER(c))
		return;
	if (c->state < CONN_OPEN) {
		/* No stream to wait for. */
		do_close(c, code, reason, QUIC_END_LOCAL);
		return;
	}
	c->state = CONN_CLOSING;
	c->cwa_code = code;
	g_strlcpy(c->cwa_reason, reason, sizeof(c->cwa_reason));
	check_acked_close(c);
	if (c->state == CONN_CLOSING)
		c->cwa_timer = g_timeout_add(timeout_ms, on_cwa_timer, c);
}

void
quic_conn_close(QuicConn *qc, uint64_t code, const char *reason)
{
	do_close(qc, code, reason, code == QUIC_APP_OK && qc->stream_closed ?
	    QUIC_END_DONE : QUIC_END_LOCAL);
}

/* What to do after an ngtcp2 call whose callbacks asked for a close. */
static void
after_callbacks(QuicConn *c)
{
	if (c->proof_bad && !OVER(c)) {
		do_close(c, QUIC_APP_REFUSED, "the secret was not proved",
		    QUIC_END_PROOF);
		return;
	}
	if (c->pending_close) {
		c->pending_close = FALSE;
		do_close(c, c->pending_code, c->pending_reason, c->pending_kind);
		return;
	}
	check_done(c);
}

static void
conn_fatal(QuicConn *c, int rv)
{
	ngtcp2_ccerr ccerr;
	char reason[128];

	if (OVER(c))
		return;
	if (c->cert_bad)
		g_strlcpy(reason, "the peer's certificate is not the pinned one",
		    sizeof(reason));
	else if (rv == NGTCP2_ERR_CRYPTO)
		snprintf(reason, sizeof(reason), "TLS handshake failed (alert %u)",
		    ngtcp2_conn_get_tls_alert(c->conn));
	else
		g_strlcpy(reason, ngtcp2_strerror(rv), sizeof(reason));
	ngtcp2_ccerr_default(&ccerr);
	if (rv == NGTCP2_ERR_CRYPTO)
		ngtcp2_ccerr_set_tls_alert(&ccerr,
		    ngtcp2_conn_get_tls_alert(c->conn), NULL, 0);
	else
		ngtcp2_ccerr_set_liberr(&ccerr,
		    rv, NULL, 0);
	conn_close(c, &ccerr, c->cert_bad ? QUIC_END_CERT : QUIC_END_ERROR, 0,
	    reason);
}

void
quic_conn_recv(QuicConn *c, const uint8_t *pkt, size_t len)
{
	ngtcp2_path path = conn_path(c);
	ngtcp2_pkt_info pi = { 0 };
	int rv;

	if (OVER(c)) {
		/* Until the owner frees it: the peer may not have heard our
		 * close (a refused viewer must learn why); say it again. */
		if (c->close_len > 0 && c->close_resends++ < 8)
			io_send_now(c, c->close_pkt, c->close_len);
		return;
	}
	c->in_cb++;
	rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, pkt, len, now_ts());
	c->in_cb--;
	if (rv == NGTCP2_ERR_DRAINING) {
		ngtcp2_ccerr ccerr;
		char reason[256] = "";

		conn_get_ccerr(c->conn, &ccerr);
		if (ccerr.type == NGTCP2_CCERR_TYPE_APPLICATION &&
		    !c->cfg.server) {
			size_t n = ccerr.reasonlen;

			/* Before the host proved the secret (or, on a pinned
			 * path, the TLS handshake proved its certificate),
			 * only a tagged close is the host's. */
			if (close_tag_ok(c, ccerr.error_code, ccerr.reason, &n))
				ccerr.reasonlen = n;
			else if (c->state < CONN_OPEN && !c->cfg.pin_peer) {
				conn_end(c, QUIC_END_PROOF, ccerr.error_code,
				    "the peer closed the connection without proving the secret");
				return;
			}
		}
		/* The peer's words end up on a terminal: no escapes. */
		quic_reason_text(ccerr.reason, ccerr.reasonlen, reason,
		    sizeof(reason));
		if (ccerr.type == NGTCP2_CCERR_TYPE_APPLICATION)
			conn_end(c, ccerr.error_code == QUIC_APP_OK && c->rx_fin ?
			    QUIC_END_DONE : QUIC_END_PEER, ccerr.error_code, reason);
		else {
			char what[160];
			const char *alert = NULL;

			/* CRYPTO_ERROR: 0x100 + a TLS alert (RFC 9001 4.8). */
			if (ccerr.error_code >= 0x100 && ccerr.error_code <= 0x1ff)
				alert = gnutls_alert_get_name(
				    (gnutls_alert_description_t)(ccerr.error_code - 0x100));
			if (alert != NULL)
				snprintf(what, sizeof(what),
				    "the peer ended the TLS handshake (alert %s)",
				    alert);
			else
				snprintf(what, sizeof(what),
				    "the peer closed the connection (QUIC error 0x%llx%s%s)",
				    (unsigned long long)ccerr.error_code,
				    reason[0] ? ": " : "", reason);
			conn_end(c, QUIC_END_ERROR, 0, what);
		}
		return;
	}
	if (rv == NGTCP2_ERR_DROP_CONN) {
		conn_end(c, QUIC_END_ERROR, 0, "connection dropped");
		return;
	}
	if (rv != 0 && rv != NGTCP2_ERR_CALLBACK_FAILURE &&
	    ngtcp2_err_is_fatal(rv)) {
		conn_fatal(c, rv);
		return;
	}
	if (rv == NGTCP2_ERR_CALLBACK_FAILURE && !c->proof_bad &&
	    !c->pending_close) {
		do_close(c, QUIC_APP_INTERNAL, "internal error", QUIC_END_ERROR);
		return;
	}
	if (rv == NGTCP2_ERR_CRYPTO) {
		conn_fatal(c, rv);
		return;
	}
	after_callbacks(c);
	/* Acknowledgements and answers go out once the main loop has read
	 * what is waiting on the socket: fewer, fuller bursts. */
	if (!OVER(c) && c->timer != NULL)
		g_source_set_ready_time(c->timer, 0);
}

static size_t
unsent_vecs(QuicConn *c, ngtcp2_vec *v, size_t max, size_t *total)
{
	uint64_t off = c->head_off;
	size_t n = 0;

	*total = 0;
	for (GList *l = c->chunks.head; l != NULL && n < max; l = l->next) {
		Chunk *ch = l->data;
		uint64_t end = off + ch->len;

		if (end > c->sent_off) {
			size_t skip = c->sent_off > off ? c->sent_off - off : 0;

			v[n].base = ch->data + skip;
			v[n].len = ch->len - skip;
			*total += v[n].len;
			n++;
		}
		off = end;
	}
	return n;
}

static void
conn_write(QuicConn *c)
{
	uint8_t buf[MAX_PKT];
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_tstamp ts = now_ts();
	gboolean blocked = FALSE;
	int npkts = 0;

	if (c->in_cb > 0 || OVER(c) || c->conn == NULL)
		return;
	ngtcp2_path_storage_zero(&ps);
	for (;;) {
		ngtcp2_vec vec[16];
		size_t nvec = 0, total = 0;
		int64_t sid = -1;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		gboolean fin = FALSE;
		ngtcp2_ssize n, ndatalen = -1;

		if (c->sid >= 0 && !blocked && !c->shut_wr && !c->fin_sent) {
			nvec = unsent_vecs(c, vec, G_N_ELEMENTS(vec), &total);
			/* FIN once the input ended and all it gave is in. */
			fin = c->in_eof && c->state >= CONN_OPEN &&
			    (c->cfg.hold_fin_ms == 0 || c->fin_released) &&
			    c->sent_off + total == c->read_off;
			if (fin)
				flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
			if (nvec > 0 || fin)
				sid = c->sid;
		}
		c->in_cb++;
		n = ngtcp2_conn_writev_stream(c->conn, &ps.path, &pi, buf,
		    sizeof(buf), &ndatalen, flags, sid, vec, nvec, ts);
		c->in_cb--;
		if (ndatalen >= 0) {
			c->sent_off += ndatalen;
			if (fin && (size_t)ndatalen == total)
				c->fin_sent = TRUE;
		}
		if (n < 0) {
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				/* The peer sent STOP_SENDING (ngtcp2 answered
				 * with RESET_STREAM): stop reading our input.
				 * (ngtcp2's stream_stop_sending callback is
				 * about our own read side, not this.) */
				c->shut_wr = TRUE;
				in_close(c);
				blocked = TRUE;
				continue;
			}
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
				blocked = TRUE;
				continue;
			}
			io_flush(c);
			conn_fatal(c, (int)n);
			return;
		}
		if (n == 0)
			break;
		c->cfg.io.send(c->cfg.io.ctx, buf, n);
		if (++npkts >= BURST) {
			/* Let the loop read acknowledgements, then go on. */
			io_flush(c);
			ngtcp2_conn_update_pkt_tx_time(c->conn, ts);
			g_source_set_ready_time(c->timer, 0);
			in_resume(c);	/* what was sent makes room */
			after_callbacks(c);
			return;
		}
	}
	io_flush(c);
	ngtcp2_conn_update_pkt_tx_time(c->conn, ts);
	in_resume(c);
	after_callbacks(c);
	timer_update(c);
}

void
quic_conn_attach(QuicConn *c, int in_fd, int out_fd)
{
	c->attached = TRUE;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	/* Not on a terminal: its stdin, stdout and stderr are usually one
	 * open file, shared with the shell. Reads then wait for poll, and
	 * writes may block a moment. */
	if (in_fd >= 0 && !isatty(in_fd))
		c->in_nonblock = g_unix_set_fd_nonblocking(in_fd, TRUE, NULL);
	else if (in_fd < 0)
		c->in_eof = TRUE;
	if (out_fd >= 0 && !isatty(out_fd))
		g_unix_set_fd_nonblocking(out_fd, TRUE, NULL);
	if (OVER(c)) {
		in_close(c);
		out_finish(c);
		return;
	}
	if (out_fd < 0) {
		consumed(c, pend_left(c));
		g_byte_array_set_size(c->pend, 0);
		c->pend_pos = 0;
		c->out_done = TRUE;
	} else if (pend_left(c) > 0)
		c->out_watch = g_unix_fd_add(out_fd, G_IO_OUT | G_IO_ERR | G_IO_HUP,
		    on_out, c);
	else if (c->rx_fin)
		out_finish(c);
	in_resume(c);
	if (c->in_cb == 0)
		conn_write(c);
	else if (c->timer != NULL)
		g_source_set_ready_time(c->timer, 0);
}

double
quic_conn_rtt_ms(QuicConn *c)
{
	ngtcp2_conn_info st;

	ngtcp2_conn_get_conn_info(c->conn, &st);
	return st.smoothed_rtt / 1e6;
}

void
quic_conn_counts(QuicConn *c, uint64_t *sent, uint64_t *received)
{
	*sent = c->tx_bytes;
	*received = c->rx_bytes;
}

void
quic_conn_free(QuicConn *c)
{
	if (c == NULL)
		return;
	in_close(c);
	out_stop(c);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->proof_timer != 0)
		g_source_remove(c->proof_timer);
	if (c->fin_timer != 0)
		g_source_remove(c->fin_timer);
	if (c->cwa_timer != 0)
		g_source_remove(c->cwa_timer);
	if (c->timer != NULL) {
		g_source_destroy(c->timer);
		g_source_unref(c->timer);
	}
	if (c->conn != NULL)
		ngtcp2_conn_del(c->conn);
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	g_queue_clear_full(&c->chunks, chunk_free);
	g_byte_array_unref(c->pend);
	g_free(c);
}

/* --- what the peer sends besides QUIC ----------------------------------- */

QuicProofState
quic_proof_take(QuicProofRx *rx, const uint8_t *data, size_t len,
    gboolean fin, size_t *used)
{
	size_t k = MIN(len, QUIC_PROOF_LEN - rx->len);

	/* A bare FIN comes with no data at all (data may be NULL). */
	if (k > 0)
		memcpy(rx->buf + rx->len, data, k);
	rx->len += k;
	*used = k;
	if (rx->len == QUIC_PROOF_LEN)
		return QUIC_PROOF_WHOLE;
	return fin ? QUIC_PROOF_SHORT : QUIC_PROOF_MORE;
}

void
quic_reason_text(const uint8_t *reason, size_t len, char *out,
    size_t outsize)
{
	size_t i;

	if (outsize == 0)
		return;
	for (i = 0; i < len && i < outsize - 1; i++)
		out[i] = reason[i] >= 0x20 && reason[i] < 0x7f ?
		    (char)reason[i] : '?';
	out[i] = '\0';
}
