/* Fuzz target: the rendezvous's signaling messages (lib/signaling.c),
 * which anyone on the broker can publish. Three ways in: the input as an
 * envelope to open (the header checks before the AEAD); the input as the
 * plaintext of a message, sealed with the right key and opened again, so
 * the text decoder sees it as an authentic message would reach it, and a
 * replay of that envelope must be refused; and a message that decodes
 * must encode back to one that decodes the same. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "signaling.h"

#define NOW 1700000000

static SignalingCtx *
ctx(void)
{
	static SignalingCtx c;
	static gboolean ready;
	static const uint8_t secret[16] = "fuzzing secret!";
	char topic[64];

	if (!ready) {
		if (!signaling_init(&c, secret, sizeof(secret), topic))
			abort();
		ready = TRUE;
	}
	return &c;
}

static gboolean
same(const SignalingMsg *a, const SignalingMsg *b)
{
	return a->type == b->type && strcmp(a->session, b->session) == 0 &&
	    strcmp(a->reply, b->reply) == 0 && a->has_fp == b->has_fp &&
	    memcmp(a->fp, b->fp, sizeof(a->fp)) == 0 &&
	    strcmp(a->ufrag, b->ufrag) == 0 && strcmp(a->pwd, b->pwd) == 0 &&
	    strcmp(a->turn, b->turn) == 0 && strcmp(a->text, b->text) == 0;
}

static void
round_trip(const uint8_t *data, size_t size)
{
	SignalingMsg m, again;
	char *text;

	if (!signaling_msg_decode(data, size, &m))
		return;
	text = signaling_msg_encode(&m);
	if (text == NULL || !signaling_msg_decode((const uint8_t *)text,
	    strlen(text), &again) || !same(&m, &again))
		abort();
	g_free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SignalingCtx *c = ctx();
	char text[SIGNALING_MAX_TEXT + 1];
	size_t n;
	char *plain;
	GBytes *env;

	/* A stranger's envelope: never opens (the key is not theirs). */
	if (signaling_open(c, data, size, NOW, text, &n))
		abort();

	round_trip(data, size);

	/* The same bytes as an authentic message's text. */
	plain = g_strndup((const char *)data, size);
	env = signaling_seal(c, plain, NOW);
	if (env != NULL) {
		gsize elen;
		const uint8_t *e = g_bytes_get_data(env, &elen);
		SignalingMsg m;

		if (signaling_open(c, e, elen, NOW, text, &n)) {
			if (n != strlen(plain) || memcmp(text, plain, n) != 0 ||
			    text[n] != '\0')
				abort();
			(void)signaling_msg_decode((const uint8_t *)text, n, &m);
			if (signaling_open(c, e, elen, NOW, text, &n))
				abort();	/* a replay */
		}
		g_bytes_unref(env);
	}
	g_free(plain);
	return 0;
}
