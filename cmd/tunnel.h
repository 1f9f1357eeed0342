/* What pp-tunnel's two halves, tunnel-listen.c (the host) and
 * tunnel-connect.c (the viewer), share with its main in pp-tunnel.c: the
 * options, the network settings and the keys of one ticket. These are one
 * program's own parts, kept apart so that each half reads top to bottom;
 * they are not library code for another tool (that lives in lib/). */
#pragma once

#include <sys/socket.h>

#include <glib.h>
#include <stdint.h>

#include "config.h"
#include "ice.h"
#include "keys.h"
#include "quic.h"
#include "rendezvous.h"
#include "signaling.h"
#include "ticket.h"

/* ICE's datagrams start at QUIC's 1200 bytes, which leave room for a
 * TURN relay's framing (ChannelData, or a Send indication of 36 bytes,
 * and 2 bytes per frame over TCP) on a 1280-byte IPv6 path, and grow by
 * path MTU discovery up to what a 1500-byte IPv6 packet holds. */
#define ICE_UDP_PAYLOAD 1452
#define RENDEZVOUS_TIMEOUT_S 10

typedef struct {
	/* Options. */
	guint max_viewers;		/* --max-viewers: 0 means no limit */
	uint16_t port;			/* --port: 0 means any free port */
	const char *ticket_file;	/* --ticket-file */
	guint timeout_s;		/* --timeout */
	guint idle_ms;			/* PP_TUNNEL_IDLE_TIMEOUT, in seconds */
	const char *rendezvous;		/* --rendezvous */
	const char *rendezvous_ca;	/* --rendezvous-ca */
	const char *stun_opt;		/* --stun */
	const char *turn_opt;		/* --turn */
	const char *turn_ca;		/* --turn-ca, else config.toml's turn_ca */

	/* Those with config.toml's [network], once read. */
	Config *config;
	IceStun stun;
	IceTurn turn;

	/* From the ticket's secret. */
	SignalingCtx sig;
	char topic[64];
	uint8_t proof_key[KEYS_LEN];
} Tunnel;

extern const char *const tunnel_default_rendezvous[];

/* A setting: the option, else the [network] key of config.toml (a string
 * or a list), else the defaults. NULL-terminated list, not to be freed. */
const char *const *tunnel_setting(const Tunnel *t, const char *opt,
    const char *key, const char *const *defaults);

/* Reads config.toml; exits 64 naming a bad line. */
void tunnel_network_settings(Tunnel *t);

/* STUN and TURN, resolved: only when ICE is going to be used. 0, or the
 * exit status after one line on stderr saying what is wrong. */
int tunnel_ice_servers(Tunnel *t);

/* The signaling keys, topic and direct-path proof key of the secret. */
void tunnel_keys(Tunnel *t, const Ticket *ticket);

/* Seals m and publishes it on the topic to. */
void tunnel_publish(Tunnel *t, Rendezvous *r, const char *to,
    const SignalingMsg *m);

/* The fixed path ngtcp2 sees on an ICE link, whose real paths change
 * under QUIC: 127.0.0.1 with last as the last byte and the port. */
void tunnel_ice_sockaddr(struct sockaddr_storage *ss, socklen_t *len,
    uint8_t last);

/* The one place QuicConfig is made: a host's or a viewer's connection,
 * on the direct path or, with pin_fp (the certificate's SHA-256 that
 * authenticated signaling named), on an ICE link. The caller adds io, ev
 * and ud. */
QuicConfig tunnel_quic_config(const Tunnel *t, gboolean server,
    const struct sockaddr *local, socklen_t local_len,
    const struct sockaddr *remote, socklen_t remote_len,
    const uint8_t *pin_fp);

const char *tunnel_family_name(const struct sockaddr *sa);

/* For the status events: an ICE path's kind as a word (udp, punched,
 * relayed), and the peer's address and family in ice_link_path's
 * description (a pointer into it). */
const char *tunnel_path_word(IcePathKind kind);
const char *tunnel_path_peer(const char *desc);
const char *tunnel_path_family(const char *desc);

/* Exits 65 when text is not a whole ticket. */
void tunnel_ticket_check(const char *text, Ticket *ticket);

/* What the settings and keys hold, after a half has returned. */
void tunnel_free(Tunnel *t);

/* The halves: each returns the exit status. */
int tunnel_listen(Tunnel *t, char **cmd_argv);
int tunnel_connect(Tunnel *t, const char *ticket);

/* From here on the tunnel only moves packets: no_new_privs, and the
 * filesystem closed but for name lookups, the CA store and the CA files
 * given (pp-tunnel(1), SECURITY). Exits 71 when the kernel refuses. */
void tunnel_confine(const Tunnel *t);
