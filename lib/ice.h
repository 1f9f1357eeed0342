/* One ICE (RFC 8445) link to one peer with libnice: host, server-reflexive
 * (STUN) and relayed (TURN over UDP, TCP or TLS) candidates, trickled by
 * the caller through the rendezvous; datagrams once a pair works. ICE-TCP
 * is off: the media runs over QUIC on UDP, and ICE-TCP pairs win on
 * loopback otherwise. libnice has no TLS client for TURN: for turns://
 * the link runs a tlsrelay (tlsrelay.h) and gives libnice its loopback
 * port as a TURN-over-TCP server. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	ICE_TURN_UDP,
	ICE_TURN_TCP,
	ICE_TURN_TLS,
	ICE_TURN_UDP_TCP,	/* no ?transport=: both, UDP preferred */
} IceTurnTransport;

typedef struct {
	char *host;		/* a numeric address, resolved */
	guint port;
} IceStun;

typedef struct {
	char *url;		/* as given: handed to viewers */
	char *name;		/* the host as in the URL: what TLS verifies */
	char *host;		/* a numeric address, resolved */
	guint port;
	char *user, *pass;
	IceTurnTransport transport;
	char *ca_file;		/* TLS: CAs besides the system's, or NULL */
} IceTurn;

/* "HOST[:PORT]", "stun:HOST[:PORT]" or "stun://HOST[:PORT]" (3478). */
gboolean ice_parse_stun(const char *url, IceStun *s, GError **error);
/* "turn://USER:PASS@HOST[:PORT][?transport=udp|tcp]" (3478; UDP and TCP
 * without ?transport=) or "turns://USER:PASS@HOST[:PORT]" (TLS, 5349);
 * "turn:" also. */
gboolean ice_parse_turn(const char *url, IceTurn *t, GError **error);
void ice_stun_clear(IceStun *s);
void ice_turn_clear(IceTurn *t);
/* "UDP", "TCP", "TLS" or "UDP or TCP". */
const char *ice_turn_transport_name(IceTurnTransport t);

typedef struct IceLink IceLink;

typedef struct {
	/* A local candidate to send to the peer (an "a=candidate:" line). */
	void (*candidate)(IceLink *l, const char *sdp, void *ud);
	/* Gathering is over: tell the peer there are no more. */
	void (*gathered)(IceLink *l, void *ud);
	/* A pair works: ice_link_send carries datagrams. Once. */
	void (*connected)(IceLink *l, void *ud);
	/* Every pair failed. Once. */
	void (*failed)(IceLink *l, void *ud);
	/* A datagram from the peer. */
	void (*recv)(IceLink *l, const uint8_t *pkt, size_t len, void *ud);
} IceEvents;

/* The controlling side is the viewer. stun and turn may be NULL. */
IceLink *ice_link_new(gboolean controlling, const IceStun *stun,
    const IceTurn *turn, const IceEvents *ev, void *ud);

/* A TURN server for this side (before ice_link_start). For TLS, a
 * relay that cannot start is logged and left out. */
void ice_link_set_turn(IceLink *l, const IceTurn *turn);

/* This side's ufrag and password (owned by the link). */
void ice_link_credentials(IceLink *l, const char **ufrag, const char **pwd);

/* The peer's credentials; then gathers (candidate events follow). */
gboolean ice_link_start(IceLink *l, const char *ufrag, const char *pwd,
    GError **error);

/* A candidate line from the peer; FALSE when it does not parse. */
gboolean ice_link_add_remote(IceLink *l, const char *sdp);
/* The peer has no more candidates. */
void ice_link_remote_done(IceLink *l);

void ice_link_send(IceLink *l, const uint8_t *pkt, size_t len);

typedef enum {
	ICE_PATH_NONE,
	ICE_PATH_UDP,		/* no NAT in between */
	ICE_PATH_PUNCHED,	/* UDP through NAT */
	ICE_PATH_RELAYED,	/* through a TURN server */
} IcePathKind;

/* The selected pair: what kind of path, and a description such as
 * "UDP punched through NAT (10.1.0.2 -> 198.51.100.11:40123)". For a
 * relay, relay_transport is how this side reaches its TURN server, or -1
 * when the relay is the peer's. */
IcePathKind ice_link_path(IceLink *l, int *relay_transport, char **desc);

/* What was tried, for "no path" errors: "3 local candidates (1 host, 1
 * server-reflexive, 1 relayed), 2 remote; 6 pairs checked". */
char *ice_link_summary(IceLink *l);

/* Why this side has no relayed candidate from its turns:// server (the
 * TLS connection failed), or NULL. */
const char *ice_link_relay_error(IceLink *l);

/* Why no pair worked without a relay, as far as the candidates tell:
 * this side's UDP unanswered by its STUN server, the peer's without an
 * outside address, or else both NATs (for "no path" errors). */
const char *ice_link_no_relay_cause(IceLink *l);

void ice_link_free(IceLink *l);
