/* The rendezvous URLs, mqtt://HOST[:PORT] and mqtts://HOST[:PORT]. Apart
 * from lib/rendezvous so that the ticket decoder, which refuses a ticket
 * whose URL is not one, does not pull in libmosquitto. */
#pragma once

#include <glib.h>

typedef struct {
	gboolean tls;
	char host[256];		/* without the brackets of an IPv6 address */
	int port;		/* 1883 or 8883 when the URL has none */
} MqttUrl;

/* FALSE when url is not one: another scheme, an empty host, a port out of
 * range, a path or anything else after the port, or a byte that is not
 * printable ASCII (a URL read from a ticket is shown in messages, and must
 * not put escapes on the terminal). */
gboolean mqtt_url_parse(const char *url, MqttUrl *u);
