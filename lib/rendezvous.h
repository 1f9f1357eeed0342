/* The rendezvous: an MQTT broker (libmosquitto) through which a viewer
 * and the host exchange sealed signaling messages (lib/signaling). The
 * broker only relays; it sees topic names and ciphertext.
 *
 * libmosquitto's own thread runs the connection and reconnects with
 * backoff; messages and state changes come back to the GLib main context
 * that made the Rendezvous. Subscriptions are kept across reconnects.
 * Messages that find 4 MB still waiting for the main context (a flood on
 * the topic) are dropped on arrival. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Rendezvous Rendezvous;

typedef struct {
	/* A message on a subscribed topic (in the main context). */
	void (*message)(Rendezvous *r, const char *topic, const uint8_t *data,
	    size_t len, void *ud);
	/* Connected (up), or the connection was lost (why says how). */
	void (*state)(Rendezvous *r, gboolean up, const char *why, void *ud);
} RendezvousEvents;

/* url: mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS, verified with
 * cafile, or the system's CA store when cafile is NULL). Does not connect
 * yet; NULL with error when the URL is not one of these. */
Rendezvous *rendezvous_new(const char *url, const char *cafile,
    const RendezvousEvents *ev, void *ud, GError **error);

/* Connects, running the main context until the broker accepted or
 * timeout_s passed; then keeps reconnecting in the background. FALSE with
 * error naming the broker and what failed. */
gboolean rendezvous_connect(Rendezvous *r, guint timeout_s, GError **error);

gboolean rendezvous_is_up(Rendezvous *r);
const char *rendezvous_url(Rendezvous *r);

void rendezvous_subscribe(Rendezvous *r, const char *topic);
/* QoS 1; dropped (with a debug line) while the broker is away. */
void rendezvous_publish(Rendezvous *r, const char *topic, const void *data,
    size_t len);

void rendezvous_free(Rendezvous *r);
