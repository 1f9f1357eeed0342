/* Unit tests of lib/signal, printing TAP: the message text round trip and
 * its strict parser; sealed envelopes open once, and a tampered, replayed,
 * stale or foreign one never. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling.h"
#include "tap.h"

static void
offer(SignalingMsg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = SIGNALING_OFFER;
	strcpy(m->session, "0123456789abcdef");
	strcpy(m->reply, "pixelpass/00112233445566778899aabbccddeeff/r/fedcba98");
	m->has_fp = TRUE;
	for (int i = 0; i < 32; i++)
		m->fp[i] = i * 7;
	strcpy(m->ufrag, "Ab12");
	strcpy(m->pwd, "abcdefghijklmnopqrstuv");
}

static gboolean
decodes(const char *s)
{
	SignalingMsg m;

	return signaling_msg_decode((const uint8_t *)s, strlen(s), &m);
}

int
main(void)
{
	const uint8_t secret[16] = "0123456789abcdef", other[16] = "0123456789abcdeX";
	SignalingCtx host, viewer, stranger;
	char topic[64], topic2[64], topic3[64], text[SIGNALING_MAX_TEXT + 1];
	SignalingMsg m, back;
	g_autofree char *enc = NULL;
	GBytes *env;
	uint8_t *copy;
	size_t len, n;
	int64_t now = 1700000000;

	/* Text round trip, every type. */
	offer(&m);
	enc = signaling_msg_encode(&m);
	ok(enc != NULL, "an offer encodes");
	ok(signaling_msg_decode((uint8_t *)enc, strlen(enc), &back) &&
	    memcmp(&m, &back, sizeof(m)) == 0, "and decodes to the same offer");
	m.type = SIGNALING_ANSWER;
	memset(m.reply, 0, sizeof(m.reply));
	strcpy(m.turn, "turn://u:p@192.0.2.1:3478?transport=udp");
	g_free(enc);
	enc = signaling_msg_encode(&m);
	ok(enc != NULL && signaling_msg_decode((uint8_t *)enc, strlen(enc), &back) &&
	    memcmp(&m, &back, sizeof(m)) == 0, "an answer with TURN round-trips");
	memset(&m, 0, sizeof(m));
	m.type = SIGNALING_CANDIDATE;
	strcpy(m.session, "fedcba9876543210");
	strcpy(m.text, "a=candidate:1 1 UDP 2013266431 10.0.0.2 40000 typ host");
	g_free(enc);
	enc = signaling_msg_encode(&m);
	ok(enc != NULL && signaling_msg_decode((uint8_t *)enc, strlen(enc), &back) &&
	    memcmp(&m, &back, sizeof(m)) == 0, "a candidate round-trips");
	m.type = SIGNALING_DONE;
	m.text[0] = '\0';
	g_free(enc);
	enc = signaling_msg_encode(&m);
	ok(enc != NULL && signaling_msg_decode((uint8_t *)enc, strlen(enc), &back) &&
	    back.type == SIGNALING_DONE, "done round-trips");
	strcpy(m.text, "a\nb");
	m.type = SIGNALING_CANDIDATE;
	ok(signaling_msg_encode(&m) == NULL, "a newline in a field does not encode");

	/* The parser is strict. */
	ok(!decodes(""), "empty text is refused");
	ok(!decodes("t done\n"), "a message without session is refused");
	ok(decodes("t done\ns 0123456789abcdef\n"), "a minimal message decodes");
	ok(!decodes("t done\ns 0123456789abcdef"), "a last line without newline is refused");
	ok(!decodes("t done\ns 0123456789abcdef\nx y\n"), "an unknown key is refused");
	ok(!decodes("t done\ns 0123456789abcdef\ns 0123456789abcdef\n"), "a repeated key is refused");
	ok(!decodes("t done\ns 0123456789abcdeg\n"), "a session that is not hex is refused");
	ok(!decodes("t nope\ns 0123456789abcdef\n"), "an unknown type is refused");
	ok(!decodes("t done\ns 0123456789abcdef\nc x\n"), "a field its type does not have is refused");
	ok(!decodes("t candidate\ns 0123456789abcdef\nc a\tb\n"), "a control byte is refused");
	ok(!decodes("t offer\ns 0123456789abcdef\nr x\nu a\np b\n"), "an offer without fingerprint is refused");

	/* Keys and topic. */
	ok(signaling_init(&host, secret, 16, topic) &&
	    signaling_init(&viewer, secret, 16, topic2) &&
	    signaling_init(&stranger, other, 16, topic3), "contexts from secrets");
	ok(strcmp(topic, topic2) == 0 && strlen(topic) == 42 &&
	    strncmp(topic, "pixelpass/", 10) == 0, "the same secret, the same topic");
	ok(strcmp(topic, topic3) != 0, "another secret, another topic");
	ok(strstr(topic, "30313233") == NULL, "the topic does not show the secret");

	/* Seal and open. */
	env = signaling_seal(&viewer, "t done\ns 0123456789abcdef\n", now);
	ok(env != NULL, "a message seals");
	g_bytes_get_data(env, &len);
	copy = g_memdup2(g_bytes_get_data(env, NULL), len);
	ok(memmem(copy, len, "0123456789abcdef", 16) == NULL, "the sealed message hides its text");
	ok(!signaling_open(&stranger, copy, len, now, text, &n), "another secret cannot open it");
	for (size_t i = 0; i < len; i += 7) {
		copy[i] ^= 0x20;
		if (signaling_open(&host, copy, len, now, text, &n))
			break;
		copy[i] ^= 0x20;
		if (i + 7 >= len)
			i = len;
	}
	ok(memcmp(copy, g_bytes_get_data(env, NULL), len) == 0,
	    "no flipped bit (header, text or tag) opens");
	ok(!signaling_open(&host, copy, len - 1, now, text, &n), "a truncated message does not open");
	ok(!signaling_open(&host, copy, len, now + 3 * SIGNALING_WINDOW_S, text, &n), "a stale message does not open");
	ok(!signaling_open(&host, copy, len, now - 3 * SIGNALING_WINDOW_S, text, &n), "a message from the future does not open");
	ok(signaling_open(&host, copy, len, now + 5, text, &n) &&
	    strcmp(text, "t done\ns 0123456789abcdef\n") == 0 && n == strlen(text),
	    "the message opens to its text");
	ok(!signaling_open(&host, copy, len, now + 6, text, &n), "replayed, it does not open again");
	g_bytes_unref(env);
	g_free(copy);
	env = signaling_seal(&viewer, "t done\ns 0123456789abcdef\n", now);
	ok(signaling_open(&host, g_bytes_get_data(env, NULL), g_bytes_get_size(env),
	    now, text, &n), "the sender's next message opens");
	g_bytes_unref(env);
	env = signaling_seal(&host, "t done\ns 0123456789abcdef\n", now);
	ok(!signaling_open(&host, g_bytes_get_data(env, NULL), g_bytes_get_size(env),
	    now, text, &n), "a message of our own published back to us does not open");
	ok(signaling_open(&viewer, g_bytes_get_data(env, NULL), g_bytes_get_size(env),
	    now, text, &n), "though the peer opens it");
	g_bytes_unref(env);

	/* The message layer over it. */
	offer(&m);
	env = signaling_seal_msg(&viewer, &m);
	ok(env != NULL && signaling_open_msg(&host, g_bytes_get_data(env, NULL),
	    g_bytes_get_size(env), &back) && memcmp(&m, &back, sizeof(m)) == 0,
	    "an offer round-trips sealed");
	ok(!signaling_open_msg(&host, g_bytes_get_data(env, NULL),
	    g_bytes_get_size(env), &back), "and is refused when replayed");
	g_bytes_unref(env);
	/* Random and mutated text never crashes the parser, and whatever it
	 * accepts encodes back to a message it accepts again. */
	{
		gboolean fine = TRUE;
		GRand *r = g_rand_new_with_seed(42);
		char base[SIGNALING_MAX_TEXT + 1], buf[SIGNALING_MAX_TEXT + 1];
		size_t blen;

		offer(&m);
		g_free(enc);
		enc = signaling_msg_encode(&m);
		blen = strlen(enc);
		memcpy(base, enc, blen + 1);
		for (int i = 0; i < 200000; i++) {
			size_t len2 = blen;

			memcpy(buf, base, blen);
			for (int k = g_rand_int_range(r, 1, 4); k > 0; k--) {
				size_t at = g_rand_int_range(r, 0, blen);

				switch (g_rand_int_range(r, 0, 3)) {
				case 0: buf[at] = g_rand_int_range(r, 0, 256); break;
				case 1: buf[at] = "\n tsrfupc0a"[g_rand_int_range(r, 0, 12)]; break;
				default: len2 = at; break;
				}
			}
			if (i % 4 == 0) {
				len2 = g_rand_int_range(r, 0, 64);
				for (size_t k = 0; k < len2; k++)
					buf[k] = g_rand_int_range(r, 0, 256);
			}
			if (signaling_msg_decode((uint8_t *)buf, len2, &back)) {
				g_autofree char *again = signaling_msg_encode(&back);
				SignalingMsg m2;

				if (again == NULL || !signaling_msg_decode(
				    (uint8_t *)again, strlen(again), &m2) ||
				    memcmp(&m2, &back, sizeof(m2)) != 0)
					fine = FALSE;
			}
		}
		g_rand_free(r);
		ok(fine, "200000 mutated messages: no crash, and what parses round-trips");
	}

	signaling_clear(&host);
	signaling_clear(&viewer);
	signaling_clear(&stranger);

	printf("1..%d\n", n_test);
	return n_failed != 0;
}
