/* One QUIC connection (ngtcp2 + gnutls, TLS 1.3, BBR) carrying one
 * bidirectional stream between two file descriptors, after both ends have
 * proved they hold the ticket's secret.
 *
 * Packets enter and leave through QuicIO and quic_conn_recv only, so the
 * same connection runs over a UDP socket (lib/udp) or over any other
 * datagram path, such as an ICE stream (nice_agent_send and the agent's
 * receive callback). */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "keys.h"

#define QUIC_ALPN "pixelpass/1"

/* Application error codes of CONNECTION_CLOSE, listed in pp-tunnel(1). */
enum {
	QUIC_APP_OK = 0x0,		/* finished, or the viewer left */
	QUIC_APP_REFUSED = 0x101,	/* the peer did not prove the secret */
	QUIC_APP_FULL = 0x102,		/* host is full; reason is "N/N" */
	QUIC_APP_STOPPED = 0x103,	/* the host stopped */
	QUIC_APP_INTERNAL = 0x104,	/* a local failure */
	QUIC_APP_HOST_FAILED = 0x105,	/* the host's command failed; reason: why */
};

typedef struct QuicConn QuicConn;

/* Sends one datagram to the peer. It may drop it: QUIC recovers. It may
 * also hold it until flush (optional), which ends every burst, to send
 * the burst in one system call. */
typedef struct {
	void (*send)(void *ctx, const uint8_t *pkt, size_t len);
	void (*flush)(void *ctx);
	void *ctx;
} QuicIO;

typedef enum {
	QUIC_END_DONE,		/* both directions finished, or closed with QUIC_APP_OK */
	QUIC_END_PEER,		/* the peer closed with app_code and reason */
	QUIC_END_LOCAL,		/* we closed it (quic_conn_close) */
	QUIC_END_PROOF,		/* the peer's proof of the secret was wrong */
	QUIC_END_CERT,		/* the peer's certificate is not the pinned one */
	QUIC_END_IDLE,		/* no packet from the peer for the idle timeout */
	QUIC_END_HANDSHAKE,	/* the handshake did not finish in time */
	QUIC_END_ERROR,		/* a protocol or local error; see reason */
} QuicEndKind;

typedef struct {
	QuicEndKind kind;
	uint64_t app_code;	/* the code sent or received */
	char reason[256];	/* the peer's reason phrase, or what failed */
} QuicEnd;

typedef struct {
	/* TLS handshake complete. A server may refuse with quic_conn_close. */
	void (*handshake_done)(QuicConn *qc, void *ud);
	/* Both ends proved the secret: attach the fds (quic_conn_attach). */
	void (*ready)(QuicConn *qc, void *ud);
	/* Over, once. The caller frees qc later, not from inside. */
	void (*ended)(QuicConn *qc, const QuicEnd *end, void *ud);
} QuicEvents;

typedef struct {
	gboolean server;
	const struct sockaddr *local, *remote;	/* the path, as ngtcp2 sees it */
	socklen_t local_len, remote_len;
	QuicIO io;
	uint8_t proof_key[KEYS_LEN];	/* keys_derive(KEYS_DIRECT_PROOF) */
	/* When set, the peer's certificate must have the SHA-256 peer_fp
	 * (the one it named in authenticated signaling): checked inside the
	 * TLS handshake, which fails with a bad_certificate alert otherwise,
	 * before any stream byte (QUIC_END_CERT). A server then requires a
	 * certificate from the client. */
	gboolean pin_peer;
	uint8_t peer_fp[32];
	guint idle_timeout_ms;
	guint handshake_timeout_ms;
	/* Largest UDP payload to send (udp_max_payload for the route, or a
	 * relay's): at most, and by default, 1472 (IPv4) or 1452 (IPv6). */
	guint max_udp_payload;
	/* The path's MTU is not known (ICE: a NAT, a tunnel or a relay on
	 * the way): start at QUIC's 1200 bytes and probe up towards
	 * max_udp_payload (path MTU discovery) instead of starting there. */
	gboolean probe_mtu;
	/* When the output fd breaks (EPIPE), close the connection instead of
	 * only asking the peer to stop sending (a viewer whose player quit). */
	gboolean close_when_output_gone;
	/* Close once the peer's direction ended and is written out, though
	 * ours may go on (a viewer typing on a terminal). */
	gboolean close_after_peer_fin;
	/* When set, the end of in_fd goes to the peer (FIN) only once
	 * quic_conn_end_input says so, or this many ms after it: a host
	 * learns how its command ended before the viewer hears the stream
	 * is over, and may close with its failure instead. */
	guint hold_fin_ms;
	QuicEvents ev;
	void *ud;
	/* A server's proof of the client's address (quic_first_datagram),
	 * or NULL where none was asked: an ICE path opened by an
	 * authenticated offer. */
	const struct QuicAddrProof *addr_proof;
} QuicConfig;

/* Once per process: makes the self-signed certificate. */
gboolean quic_init(GError **error);

QuicConn *quic_conn_new_client(const QuicConfig *cfg, GError **error);

/* Address validation (RFC 9000 8.1) for a listener's first datagrams
 * from an address it has no connection for. It keeps no state: the first
 * Initial gets a Retry whose token (sealed with this process's key)
 * binds the sender's address and port for 10 s, and only an Initial that
 * echoes it may have a connection. A sender that forged its address
 * never sees the token, and the Retry is smaller than the Initial that
 * asked for it. */
typedef enum {
	QUIC_FIRST_IGNORE,	/* not a QUIC Initial: answer nothing */
	QUIC_FIRST_RETRY,	/* no token: send the Retry, keep nothing */
	QUIC_FIRST_BAD_TOKEN,	/* not our token, not this address's, or stale */
	QUIC_FIRST_VALID,	/* proven: quic_conn_new_server with the proof */
} QuicFirstKind;

typedef struct QuicAddrProof {
	uint8_t odcid[20];	/* the DCID of the Initial that got the Retry */
	size_t odcid_len;
} QuicAddrProof;

#define QUIC_RETRY_MAX 256

QuicFirstKind quic_first_datagram(const uint8_t *pkt, size_t len,
    const struct sockaddr *from, socklen_t from_len, QuicAddrProof *proof,
    uint8_t retry[QUIC_RETRY_MAX], size_t *retry_len);

/* A server connection from the first datagram a new peer sent (which it
 * then processes). NULL with error when it is not a QUIC Initial. */
QuicConn *quic_conn_new_server(const QuicConfig *cfg, const uint8_t *pkt,
    size_t len, GError **error);

/* Here is a datagram that came from the peer. */
void quic_conn_recv(QuicConn *qc, const uint8_t *pkt, size_t len);

/* Bytes read from in_fd go to the peer, the peer's bytes to out_fd; EOF
 * travels as FIN both ways. Takes both fds (closes them); -1 for none. */
void quic_conn_attach(QuicConn *qc, int in_fd, int out_fd);

/* Sends CONNECTION_CLOSE with an application code and reason; ended
 * follows at once. Until freed, the connection answers the peer's late
 * packets by repeating the close: keep it a moment (about a second) to
 * make sure a refused peer learns why. */
void quic_conn_close(QuicConn *qc, uint64_t app_code, const char *reason);
/* The same once the peer has acknowledged all that in_fd gave, so that it
 * gets the whole stream first; at most timeout_ms from now. */
void quic_conn_close_when_sent(QuicConn *qc, uint64_t app_code,
    const char *reason, guint timeout_ms);
/* With hold_fin_ms: the input's end may go to the peer now. */
void quic_conn_end_input(QuicConn *qc);

/* SHA-256 of this process's certificate (DER), and of the peer's (FALSE
 * when it sent none): for pinning through authenticated signaling. */
gboolean quic_cert_fingerprint(uint8_t out[32]);
gboolean quic_conn_peer_fingerprint(QuicConn *qc, uint8_t out[32]);

/* Smoothed RTT in milliseconds. */
double quic_conn_rtt_ms(QuicConn *qc);
/* Stream bytes sent to and received from the peer. */
void quic_conn_counts(QuicConn *qc, uint64_t *sent, uint64_t *received);

/* Frees without any further event or packet. */
void quic_conn_free(QuicConn *qc);

/* What the peer sends besides QUIC itself, parsed by pure functions (so
 * that they can be fuzzed without a connection). */

#define QUIC_PROOF_LEN KEYS_LEN

/* The peer's proof of the secret: the first QUIC_PROOF_LEN bytes of the
 * stream, in whatever pieces they arrive. Zero it to start. */
typedef struct {
	uint8_t buf[QUIC_PROOF_LEN];
	size_t len;
} QuicProofRx;

typedef enum {
	QUIC_PROOF_MORE,	/* not whole yet */
	QUIC_PROOF_WHOLE,	/* whole in rx->buf: compare it */
	QUIC_PROOF_SHORT,	/* the stream ended before it was whole */
} QuicProofState;

/* Takes stream bytes (fin: the peer's direction ends with them); *used
 * gets how many of them belong to the proof, the rest is stream data. */
QuicProofState quic_proof_take(QuicProofRx *rx, const uint8_t *data,
    size_t len, gboolean fin, size_t *used);

/* The reason phrase of the peer's CONNECTION_CLOSE, as text safe to print
 * on a terminal or in a log: printable ASCII kept, every other byte shown
 * as '?', cut to fit out (always terminated when outsize > 0). */
void quic_reason_text(const uint8_t *reason, size_t len, char *out,
    size_t outsize);
