#include "ticket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "mqtturl.h"

/*
 * Binary layout, before base32:
 *
 *	secret		16 bytes
 *	port		2 bytes, big-endian
 *	entries		each a type byte and its value:
 *			  0x04  an IPv4 address, 4 bytes
 *			  0x06  an IPv6 address, 16 bytes
 *			  0x52  a rendezvous URL: a length byte, then the URL
 *	checksum	CRC-32 of all bytes before it, 4 bytes, little-endian
 *
 * The version is the digit of the prefix "pp1": a new layout gets a new
 * prefix. CRC-32 detects every error burst of up to 32 bits, so every
 * changed character (5 bits) is caught for certain; an inserted or deleted
 * one shifts the rest and is caught with probability 1 - 2^-32.
 */

enum { T_IPV4 = 0x04, T_IPV6 = 0x06, T_URL = 0x52 };

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n-- > 0) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

char *
ticket_encode(const Ticket *t)
{
	uint8_t buf[512];
	size_t n = 0, urllen = strlen(t->rendezvous);

	if (t->n_addrs > TICKET_MAX_ADDRS || urllen > TICKET_MAX_URL)
		return NULL;
	memcpy(buf, t->secret, TICKET_SECRET_LEN);
	n = TICKET_SECRET_LEN;
	buf[n++] = t->port >> 8;
	buf[n++] = t->port & 0xff;
	for (guint i = 0; i < t->n_addrs; i++) {
		if (t->addrs[i].family == AF_INET) {
			buf[n++] = T_IPV4;
			memcpy(buf + n, t->addrs[i].addr, 4);
			n += 4;
		} else {
			buf[n++] = T_IPV6;
			memcpy(buf + n, t->addrs[i].addr, 16);
			n += 16;
		}
	}
	if (urllen > 0) {
		buf[n++] = T_URL;
		buf[n++] = urllen;
		memcpy(buf + n, t->rendezvous, urllen);
		n += urllen;
	}
	return ticket_seal(buf, n);
}

char *
ticket_seal(const uint8_t *body, size_t len)
{
	g_autofree uint8_t *buf = g_malloc(len + 4);
	uint32_t crc = crc32_ieee(body, len);
	size_t n = len;
	GString *s;

	if (len > 0)
		memcpy(buf, body, len);
	for (int k = 0; k < 4; k++)
		buf[n++] = crc >> (8 * k);

	s = g_string_new(TICKET_PREFIX);
	for (size_t bit = 0; bit < n * 8; bit += 5) {
		unsigned v = 0;

		for (int k = 0; k < 5; k++) {
			size_t b = bit + k;

			v <<= 1;
			if (b < n * 8)
				v |= (buf[b / 8] >> (7 - b % 8)) & 1;
		}
		g_string_append_c(s, b32[v]);
	}
	return g_string_free(s, FALSE);
}

gboolean
ticket_decode(const char *str, Ticket *t)
{
	g_autofree char *s = g_ascii_strdown(str, -1);
	uint8_t buf[512];
	size_t len, n = 0, nbits, p;
	const char *d;
	MqttUrl url;

	g_strstrip(s);
	memset(t, 0, sizeof(*t));
	if (!g_str_has_prefix(s, TICKET_PREFIX))
		return FALSE;
	d = s + strlen(TICKET_PREFIX);
	len = strlen(d);
	/* Base32 without padding: lengths 1, 3 and 6 mod 8 cannot occur. */
	if (len * 5 / 8 > sizeof(buf) || len % 8 == 1 || len % 8 == 3 ||
	    len % 8 == 6)
		return FALSE;
	memset(buf, 0, sizeof(buf));
	nbits = 0;
	for (size_t i = 0; i < len; i++) {
		const char *c = strchr(b32, d[i]);

		if (d[i] == '\0' || c == NULL)
			return FALSE;
		for (int k = 4; k >= 0; k--, nbits++)
			if (((c - b32) >> k) & 1) {
				if (nbits / 8 >= len * 5 / 8)
					return FALSE;	/* stray bits */
				buf[nbits / 8] |= 0x80 >> (nbits % 8);
			}
	}
	n = len * 5 / 8;
	if (n < TICKET_SECRET_LEN + 2 + 4)
		return FALSE;
	if (crc32_ieee(buf, n - 4) != ((uint32_t)buf[n - 4] |
	    (uint32_t)buf[n - 3] << 8 | (uint32_t)buf[n - 2] << 16 |
	    (uint32_t)buf[n - 1] << 24))
		return FALSE;
	n -= 4;
	memcpy(t->secret, buf, TICKET_SECRET_LEN);
	t->port = buf[16] << 8 | buf[17];
	for (p = TICKET_SECRET_LEN + 2; p < n;) {
		uint8_t type = buf[p++];
		size_t vlen;

		switch (type) {
		case T_IPV4:
		case T_IPV6:
			vlen = type == T_IPV4 ? 4 : 16;
			if (p + vlen > n || t->n_addrs == TICKET_MAX_ADDRS)
				return FALSE;
			t->addrs[t->n_addrs].family = type == T_IPV4 ?
			    AF_INET : AF_INET6;
			memcpy(t->addrs[t->n_addrs++].addr, buf + p, vlen);
			break;
		case T_URL:
			if (p >= n || t->rendezvous[0] != '\0')
				return FALSE;
			vlen = buf[p++];
			if (vlen == 0 || vlen > TICKET_MAX_URL || p + vlen > n ||
			    memchr(buf + p, '\0', vlen) != NULL)
				return FALSE;
			memcpy(t->rendezvous, buf + p, vlen);
			t->rendezvous[vlen] = '\0';
			break;
		default:
			return FALSE;
		}
		p += vlen;
	}
	/* The checksum holds, so this is what the host wrote; but a URL that
	 * no host could have used is damage too, and must not reach a
	 * message raw. */
	if (t->rendezvous[0] != '\0' && strcmp(t->rendezvous, "none") != 0 &&
	    !mqtt_url_parse(t->rendezvous, &url))
		return FALSE;
	return t->port != 0 || t->n_addrs == 0;
}

gboolean
ticket_add_addr(Ticket *t, const struct sockaddr *sa)
{
	TicketAddr a = { .family = sa->sa_family };
	size_t alen;

	if (sa->sa_family == AF_INET) {
		memcpy(a.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		alen = 4;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		alen = 16;
	} else
		return FALSE;
	for (guint i = 0; i < t->n_addrs; i++)
		if (t->addrs[i].family == a.family &&
		    memcmp(t->addrs[i].addr, a.addr, alen) == 0)
			return FALSE;
	if (t->n_addrs == TICKET_MAX_ADDRS)
		return FALSE;
	t->addrs[t->n_addrs++] = a;
	return TRUE;
}

socklen_t
ticket_sockaddr(const Ticket *t, guint i, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (t->addrs[i].family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		memcpy(&sin->sin_addr, t->addrs[i].addr, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		memcpy(&sin6->sin6_addr, t->addrs[i].addr, 16);
		return sizeof(*sin6);
	}
}

char *
ticket_addr_string(const Ticket *t, guint i)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(t->addrs[i].family, t->addrs[i].addr, host, sizeof(host));
	if (t->addrs[i].family == AF_INET6)
		return g_strdup_printf("[%s]:%u", host, t->port);
	return g_strdup_printf("%s:%u", host, t->port);
}
