/* The rendezvous's signaling messages: what a viewer and the host tell
 * each other through the broker to set up ICE, sealed with an AEAD key
 * derived from the ticket's secret, so that the broker (or anyone on the
 * topic) reads nothing and can forge or replay nothing.
 *
 * Two layers: signaling_msg_encode/decode turn a message into text and back
 * (pure functions, the part that parses untrusted bytes once opened), and
 * signaling_seal/open put that text in an authenticated envelope:
 *
 *	version (1) | nonce (12) | sender (8) | counter (8) | time (8) |
 *	ChaCha20-Poly1305(text) with the 37 bytes before it as associated data
 *
 * The nonce is random per message (every holder of the ticket shares the
 * key, so no counter could be unique among them). The sender is random per
 * process and its counter grows: a receiver accepts each (sender, counter)
 * once, and only within SIGNALING_WINDOW_S of its own clock, and never its
 * own messages reflected back to it. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define SIGNALING_VERSION 1
#define SIGNALING_HEADER_LEN 37
#define SIGNALING_TAG_LEN 16
#define SIGNALING_MAX_TEXT 2048
#define SIGNALING_WINDOW_S 120	/* clock difference tolerated, seconds */
#define SIGNALING_SESSION_LEN 16	/* hex characters */

typedef enum {
	SIGNALING_OFFER = 1,	/* viewer -> host: credentials, fingerprint, reply topic */
	SIGNALING_ANSWER,		/* host -> viewer: credentials, fingerprint, TURN */
	SIGNALING_CANDIDATE,	/* either way: one ICE candidate (SDP a= line) */
	SIGNALING_DONE,		/* either way: no more candidates */
	SIGNALING_FULL,		/* host -> viewer: no room; text "N/N" */
} SignalingType;

typedef struct {
	SignalingType type;
	char session[SIGNALING_SESSION_LEN + 1];	/* the viewer's, hex */
	char reply[129];	/* OFFER: the viewer's topic */
	gboolean has_fp;
	uint8_t fp[32];		/* OFFER, ANSWER: certificate SHA-256 */
	char ufrag[257], pwd[257];	/* OFFER, ANSWER: ICE credentials */
	char turn[257];		/* ANSWER: the host's TURN server, or "" */
	char text[513];		/* CANDIDATE: the a=candidate line; FULL: "N/N" */
} SignalingMsg;

/* Text form of m, newly allocated; NULL when a field does not fit. */
char *signaling_msg_encode(const SignalingMsg *m);

/* Parses the text form (len bytes, no NUL needed). FALSE when anything
 * is wrong: unknown keys, missing or oversized fields, control bytes. */
gboolean signaling_msg_decode(const uint8_t *text, size_t len, SignalingMsg *m);

typedef struct {
	uint8_t key[KEYS_LEN];
	uint8_t sender[8];
	uint64_t counter;
	GHashTable *seen;	/* sender -> SignalingSeen */
} SignalingCtx;

/* The topic ("pixelpass/" and 32 hex characters) and the AEAD key for a
 * ticket's secret; a fresh sender id. FALSE only if gnutls fails. */
gboolean signaling_init(SignalingCtx *c, const uint8_t *secret, size_t len,
    char topic[64]);
void signaling_clear(SignalingCtx *c);

/* Seals text into a newly allocated envelope. now_s: the clock. */
GBytes *signaling_seal(SignalingCtx *c, const char *text, int64_t now_s);

/* Opens an envelope: FALSE (and nothing recorded) when it is damaged,
 * forged, stale or a replay. text gets the plaintext, NUL-terminated. */
gboolean signaling_open(SignalingCtx *c, const uint8_t *env, size_t len,
    int64_t now_s, char text[SIGNALING_MAX_TEXT + 1], size_t *text_len);

/* Both steps, for callers: seal a message / open and decode one. */
GBytes *signaling_seal_msg(SignalingCtx *c, const SignalingMsg *m);
gboolean signaling_open_msg(SignalingCtx *c, const uint8_t *env, size_t len,
    SignalingMsg *m);

/* A random session id (hex) or topic suffix. */
void signaling_random_hex(char *out, size_t nbytes);
