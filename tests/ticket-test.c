/* Unit tests of lib/ticket and lib/keys, printing TAP.
 *
 * Also a tool for the shell tests:
 *	ticket-test resecret TICKET	the same ticket with another secret
 *	ticket-test addrs TICKET	its addresses, one a line
 *	ticket-test addr IP TICKET	the same ticket with IP (a literal)
 *					as its only address
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "ticket.h"
#include "tap.h"

static void
hex(const char *s, uint8_t *out, size_t *len)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
	*len = n;
}

static void
sample(Ticket *t, const char *url)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < TICKET_SECRET_LEN; i++)
		t->secret[i] = 0xa5 ^ (i * 37);
	t->port = 40123;
	inet_pton(AF_INET, "192.0.2.17", &sin.sin_addr);
	ticket_add_addr(t, (struct sockaddr *)&sin);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ticket_add_addr(t, (struct sockaddr *)&sin);
	inet_pton(AF_INET6, "2001:db8::42", &sin6.sin6_addr);
	ticket_add_addr(t, (struct sockaddr *)&sin6);
	g_strlcpy(t->rendezvous, url, sizeof(t->rendezvous));
}

static gboolean
same(const Ticket *a, const Ticket *b)
{
	if (memcmp(a->secret, b->secret, TICKET_SECRET_LEN) != 0 ||
	    a->port != b->port || a->n_addrs != b->n_addrs ||
	    strcmp(a->rendezvous, b->rendezvous) != 0)
		return FALSE;
	for (guint i = 0; i < a->n_addrs; i++)
		if (a->addrs[i].family != b->addrs[i].family ||
		    memcmp(a->addrs[i].addr, b->addrs[i].addr, 16) != 0)
			return FALSE;
	return TRUE;
}

static void
test_ticket(void)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	Ticket t, u;
	g_autofree char *s = NULL, *s2 = NULL, *padded = NULL;
	size_t len, missed_sub = 0, missed_del = 0, missed_ins = 0, tried = 0;

	sample(&t, "");
	s = ticket_encode(&t);
	ok(s != NULL && g_str_has_prefix(s, "pp1"), "ticket starts with pp1");
	ok(ticket_decode(s, &u) && same(&t, &u),
	    "round trip with IPv4 and IPv6 addresses");
	printf("# %s (%zu characters)\n", s, strlen(s));
	for (const char *p = s; *p; p++)
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p))
			ok(0, "ticket is lowercase base32");

	sample(&t, "mqtts://broker.example:8883");
	s2 = ticket_encode(&t);
	ok(ticket_decode(s2, &u) && same(&t, &u) &&
	    strcmp(u.rendezvous, "mqtts://broker.example:8883") == 0,
	    "round trip with a rendezvous URL");

	padded = g_strdup_printf("  %s\n", s);
	for (char *p = padded; *p; p++)
		*p = g_ascii_toupper(*p);
	sample(&t, "");
	ok(ticket_decode(padded, &u) && same(&t, &u),
	    "white space and upper case are accepted");

	/* Every single-character change of both tickets is caught. */
	for (int w = 0; w < 2; w++) {
		const char *orig = w == 0 ? s : s2;
		char buf[1024];

		len = strlen(orig);
		for (size_t i = 0; i < len; i++) {
			for (const char *c = b32; *c; c++) {
				if (*c == orig[i])
					continue;
				memcpy(buf, orig, len + 1);
				buf[i] = *c;
				tried++;
				if (ticket_decode(buf, &u))
					missed_sub++;
			}
			/* deletion */
			memcpy(buf, orig, i);
			memcpy(buf + i, orig + i + 1, len - i);
			tried++;
			if (ticket_decode(buf, &u))
				missed_del++;
		}
		for (size_t i = 0; i <= len; i++)
			for (const char *c = b32; *c; c++) {
				memcpy(buf, orig, i);
				buf[i] = *c;
				memcpy(buf + i + 1, orig + i, len - i + 1);
				tried++;
				if (ticket_decode(buf, &u))
					missed_ins++;
			}
	}
	printf("# %zu damaged variants tried\n", tried);
	ok(missed_sub == 0, "every substituted character is caught");
	ok(missed_del == 0, "every deleted character is caught");
	ok(missed_ins == 0, "every inserted character is caught");
	ok(!ticket_decode("", &u) && !ticket_decode("pp1", &u) &&
	    !ticket_decode("hello", &u), "junk is damaged");

	memset(t.rendezvous, 'x', TICKET_MAX_URL);
	memcpy(t.rendezvous, "mqtt://", 7);
	t.rendezvous[TICKET_MAX_URL] = '\0';
	g_autofree char *big = ticket_encode(&t);
	ok(big != NULL && ticket_decode(big, &u) && same(&t, &u),
	    "round trip with the longest URL");
}

/* A ticket whose checksum holds but whose URL no host could have used is
 * damaged like any other, and its URL never reaches a message. */
static void
test_url(void)
{
	static const struct {
		const char *url;
		gboolean good;
	} v[] = {
		{ "mqtt://broker.example", TRUE },
		{ "mqtts://broker.example:8883", TRUE },
		{ "mqtt://[2001:db8::1]:1883", TRUE },
		{ "mqtt://192.0.2.1:65535", TRUE },
		{ "none", TRUE },
		{ "http://broker.example", FALSE },
		{ "mqtt://", FALSE },
		{ "mqtt://:1883", FALSE },
		{ "mqtt://broker.example:0", FALSE },
		{ "mqtt://broker.example:65536", FALSE },
		{ "mqtt://broker.example:1883x", FALSE },
		{ "mqtt://broker.example/topic", FALSE },
		{ "mqtt://user@broker.example", FALSE },
		{ "mqtt://[2001:db8::1", FALSE },
		{ "mqtt://[2001:db8::1]x", FALSE },
		{ "mqtt://[evil.example]:1883", FALSE },
		{ "mqtt://a:b:1883", FALSE },
		{ "mqtt://broker.example\033[2J", FALSE },
		{ "mqtt://broker example", FALSE },
		{ "mqtt://br\303\266ker.example", FALSE },
		{ "nonesuch", FALSE },
	};
	guint wrong = 0;
	GString *which = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		Ticket t, u;

		sample(&t, v[i].url);
		g_autofree char *s = ticket_encode(&t);
		if (s == NULL || ticket_decode(s, &u) != v[i].good) {
			wrong++;
			g_string_append_printf(which, " %s", v[i].url);
		}
	}
	ok(wrong == 0, "a URL in a sound ticket: %zu decided as they should be%s",
	    G_N_ELEMENTS(v) - wrong, which->str);
	g_string_free(which, TRUE);
}

static void
test_hkdf(void)
{
	/* RFC 5869, appendix A, test cases 1-3 (SHA-256). */
	static const struct {
		const char *ikm, *salt, *info, *okm;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  "000102030405060708090a0b0c",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		  "404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		  "9d201395faa4b61a96c8" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		uint8_t ikm[128], salt[128], info[128], okm[128], out[128];
		size_t ikmlen, saltlen, infolen, okmlen;

		hex(v[i].ikm, ikm, &ikmlen);
		hex(v[i].salt, salt, &saltlen);
		hex(v[i].info, info, &infolen);
		hex(v[i].okm, okm, &okmlen);
		ok(keys_hkdf(salt, saltlen, ikm, ikmlen, info, infolen, out,
		    okmlen) && memcmp(out, okm, okmlen) == 0,
		    "HKDF-SHA-256, RFC 5869 case %zu", i + 1);
	}
}

static void
test_keys(void)
{
	uint8_t secret[TICKET_SECRET_LEN] = { 1, 2, 3 };
	uint8_t a[KEYS_LEN], b[KEYS_LEN], c[KEYS_LEN];

	ok(keys_derive(secret, sizeof(secret), KEYS_DIRECT_PROOF, a) &&
	    keys_derive(secret, sizeof(secret), KEYS_RENDEZVOUS_TOPIC, b) &&
	    keys_derive(secret, sizeof(secret), KEYS_SIGNALING_AEAD, c) &&
	    memcmp(a, b, KEYS_LEN) != 0 && memcmp(a, c, KEYS_LEN) != 0 &&
	    memcmp(b, c, KEYS_LEN) != 0, "each use gets its own key");
	ok(keys_equal(a, a, KEYS_LEN) && !keys_equal(a, b, KEYS_LEN),
	    "keys_equal");
}

/* Tickets made by this layout, kept: a change of layout that would break
 * the tickets people already hold fails here, and must change the prefix
 * (pp1) instead. */
static void
test_golden(void)
{
	static const struct {
		const char *text, *addr0, *addr1, *rendezvous, *desc;
		guint n;
	} golden[] = {
		{ "pp1aaaqeayeaudaocajbifqydiob4ivcbgaaabacbraaeg3qaaaaaaaaaaaaaaaaaabjlsvtuq",
		    "192.0.2.1:4433", "[2001:db8::1]:4433", "", "two addresses", 2 },
		{ "pp1aaaqeayeaudaocajbifqydiob4ivcbgaaabacbraaeg3qaaaaaaaaaaaaaaaaaabkinw24luorztulzpmjzg623foixgk6dbnvygyzj2ha4dqmymmiolk",
		    "192.0.2.1:4433", "[2001:db8::1]:4433", "mqtts://broker.example:8883",
		    "two addresses and a rendezvous", 2 },
		{ "pp1aaaqeayeaudaocajbifqydiob4ivcuqenzxw4zi73ss5g", NULL, NULL,
		    "none", "no address, the direct path only", 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(golden); i++) {
		Ticket t;
		gboolean secret = TRUE, good;
		g_autofree char *a0 = NULL, *a1 = NULL, *again = NULL;

		good = ticket_decode(golden[i].text, &t);
		for (int j = 0; good && j < TICKET_SECRET_LEN; j++)
			secret = secret && t.secret[j] == j;
		if (good && t.n_addrs > 0)
			a0 = ticket_addr_string(&t, 0);
		if (good && t.n_addrs > 1)
			a1 = ticket_addr_string(&t, 1);
		ok(good && secret && t.n_addrs == golden[i].n &&
		    g_strcmp0(a0, golden[i].addr0) == 0 &&
		    g_strcmp0(a1, golden[i].addr1) == 0 &&
		    strcmp(t.rendezvous, golden[i].rendezvous) == 0,
		    "a kept ticket decodes as it did: %s", golden[i].desc);
		again = good ? ticket_encode(&t) : NULL;
		ok(g_strcmp0(again, golden[i].text) == 0,
		    "...and encodes back to the same text");
	}
}

int
main(int argc, char **argv)
{
	Ticket t;

	if (argc == 3 && strcmp(argv[1], "resecret") == 0) {
		if (!ticket_decode(argv[2], &t))
			return 65;
		for (int i = 0; i < TICKET_SECRET_LEN; i++)
			t.secret[i] ^= 0x5a;
		g_autofree char *s = ticket_encode(&t);
		puts(s);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "addrs") == 0) {
		if (!ticket_decode(argv[2], &t))
			return 65;
		for (guint i = 0; i < t.n_addrs; i++) {
			g_autofree char *a = ticket_addr_string(&t, i);
			puts(a);
		}
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "url") == 0) {
		if (!ticket_decode(argv[3], &t))
			return 65;
		g_strlcpy(t.rendezvous, argv[2], sizeof(t.rendezvous));
		g_autofree char *s = ticket_encode(&t);
		puts(s);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "addr") == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		if (!ticket_decode(argv[3], &t))
			return 65;
		t.n_addrs = 0;
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) == 1)
			ticket_add_addr(&t, (struct sockaddr *)&sin);
		else if (inet_pton(AF_INET6, argv[2], &sin6.sin6_addr) == 1)
			ticket_add_addr(&t, (struct sockaddr *)&sin6);
		else
			return 64;
		g_autofree char *s = ticket_encode(&t);
		puts(s);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: ticket-test [resecret TICKET | addrs TICKET | addr IP TICKET | url URL TICKET]\n");
		return 64;
	}
	test_ticket();
	test_golden();
	test_url();
	test_hkdf();
	test_keys();
	printf("1..%d\n", n_test);
	return n_failed != 0;
}
