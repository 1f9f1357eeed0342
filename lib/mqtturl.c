#include "mqtturl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

gboolean
mqtt_url_parse(const char *url, MqttUrl *u)
{
	const char *host, *end, *port = NULL;
	gboolean bracketed;
	size_t len;
	struct in6_addr in6;

	for (const char *p = url; *p != '\0'; p++)
		if (!g_ascii_isgraph(*p))
			return FALSE;
	if (g_str_has_prefix(url, "mqtt://")) {
		*u = (MqttUrl){ .tls = FALSE, .port = 1883 };
		host = url + 7;
	} else if (g_str_has_prefix(url, "mqtts://")) {
		*u = (MqttUrl){ .tls = TRUE, .port = 8883 };
		host = url + 8;
	} else
		return FALSE;
	/* HOST, HOST:PORT, [IPv6] or [IPv6]:PORT, and nothing after. */
	bracketed = host[0] == '[';
	if (bracketed) {
		if ((end = strchr(++host, ']')) == NULL)
			return FALSE;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return FALSE;
	} else if ((end = strchr(host, ':')) != NULL)
		port = end + 1;
	else
		end = host + strlen(host);
	len = end - host;
	if (len == 0 || len >= sizeof(u->host) ||
	    strcspn(host, "/?#@[]") < len)
		return FALSE;
	memcpy(u->host, host, len);
	u->host[len] = '\0';
	if (bracketed && inet_pton(AF_INET6, u->host, &in6) != 1)
		return FALSE;
	if (port != NULL) {
		const char *errstr;

		u->port = strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL)
			return FALSE;
	}
	return TRUE;
}
