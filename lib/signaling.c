#include "signaling.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

/* How many senders a receiver remembers: beyond that, new ones wait until
 * old ones are past the window (and so could not be replayed anyway). */
#define SIGNALING_MAX_SENDERS 1024

static const char *const type_names[] = {
	[SIGNALING_OFFER] = "offer",
	[SIGNALING_ANSWER] = "answer",
	[SIGNALING_CANDIDATE] = "candidate",
	[SIGNALING_DONE] = "done",
	[SIGNALING_FULL] = "full",
};

typedef struct {
	uint64_t counter;
	int64_t time;
} SignalingSeen;

static gboolean
printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return FALSE;
	return TRUE;
}

static gboolean
add_field(GString *out, const char *key, const char *val, size_t max)
{
	size_t n = strlen(val);

	if (n == 0 || n > max || !printable(val, n))
		return FALSE;
	g_string_append_printf(out, "%s %s\n", key, val);
	return TRUE;
}

char *
signaling_msg_encode(const SignalingMsg *m)
{
	g_autoptr(GString) out = g_string_new(NULL);
	gboolean ok;
	char fp[65];

	if (m->type < SIGNALING_OFFER || m->type > SIGNALING_FULL)
		return NULL;
	g_string_append_printf(out, "t %s\n", type_names[m->type]);
	ok = add_field(out, "s", m->session, SIGNALING_SESSION_LEN);
	if (m->type == SIGNALING_OFFER)
		ok = ok && add_field(out, "r", m->reply, sizeof(m->reply) - 1);
	if (m->type == SIGNALING_OFFER || m->type == SIGNALING_ANSWER) {
		if (!m->has_fp)
			return NULL;
		for (int i = 0; i < 32; i++)
			snprintf(fp + 2 * i, 3, "%02x", m->fp[i]);
		ok = ok && add_field(out, "f", fp, 64) &&
		    add_field(out, "u", m->ufrag, sizeof(m->ufrag) - 1) &&
		    add_field(out, "p", m->pwd, sizeof(m->pwd) - 1);
	}
	if (m->type == SIGNALING_ANSWER && m->turn[0] != '\0')
		ok = ok && add_field(out, "turn", m->turn, sizeof(m->turn) - 1);
	if (m->type == SIGNALING_CANDIDATE || m->type == SIGNALING_FULL)
		ok = ok && add_field(out, "c", m->text, sizeof(m->text) - 1);
	if (!ok || out->len > SIGNALING_MAX_TEXT)
		return NULL;
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
copy_field(char *dst, size_t size, const char *val, size_t len, gboolean *seen)
{
	if (*seen || len == 0 || len >= size)
		return FALSE;
	memcpy(dst, val, len);
	dst[len] = '\0';
	*seen = TRUE;
	return TRUE;
}

gboolean
signaling_msg_decode(const uint8_t *text, size_t len, SignalingMsg *m)
{
	const char *p = (const char *)text, *end = p + len;
	gboolean st = FALSE, ss = FALSE, sr = FALSE, sf = FALSE, su = FALSE,
	    sp = FALSE, sturn = FALSE, sc = FALSE;

	memset(m, 0, sizeof(*m));
	if (len > SIGNALING_MAX_TEXT)
		return FALSE;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *sp_;
		size_t klen, vlen;
		const char *val;

		if (nl == NULL)
			return FALSE;	/* every line ends with a newline */
		if (!printable(p, nl - p) || (sp_ = memchr(p, ' ', nl - p)) == NULL)
			return FALSE;
		klen = sp_ - p;
		val = sp_ + 1;
		vlen = nl - val;
#define KEY(k) (klen == strlen(k) && memcmp(p, k, klen) == 0)
		if (KEY("t")) {
			if (st)
				return FALSE;
			for (int t = SIGNALING_OFFER; t <= SIGNALING_FULL; t++)
				if (vlen == strlen(type_names[t]) &&
				    memcmp(val, type_names[t], vlen) == 0)
					m->type = t;
			if (m->type == 0)
				return FALSE;
			st = TRUE;
		} else if (KEY("s")) {
			if (vlen != SIGNALING_SESSION_LEN ||
			    !copy_field(m->session, sizeof(m->session), val, vlen, &ss))
				return FALSE;
			for (size_t i = 0; i < vlen; i++)
				if (!g_ascii_isxdigit(val[i]))
					return FALSE;
		} else if (KEY("r")) {
			if (!copy_field(m->reply, sizeof(m->reply), val, vlen, &sr))
				return FALSE;
		} else if (KEY("f")) {
			if (sf || vlen != 64)
				return FALSE;
			for (int i = 0; i < 32; i++) {
				int hi = g_ascii_xdigit_value(val[2 * i]);
				int lo = g_ascii_xdigit_value(val[2 * i + 1]);

				if (hi < 0 || lo < 0)
					return FALSE;
				m->fp[i] = hi << 4 | lo;
			}
			sf = m->has_fp = TRUE;
		} else if (KEY("u")) {
			if (!copy_field(m->ufrag, sizeof(m->ufrag), val, vlen, &su))
				return FALSE;
		} else if (KEY("p")) {
			if (!copy_field(m->pwd, sizeof(m->pwd), val, vlen, &sp))
				return FALSE;
		} else if (KEY("turn")) {
			if (!copy_field(m->turn, sizeof(m->turn), val, vlen, &sturn))
				return FALSE;
		} else if (KEY("c")) {
			if (!copy_field(m->text, sizeof(m->text), val, vlen, &sc))
				return FALSE;
		} else
			return FALSE;
#undef KEY
		p = nl + 1;
	}
	/* Exactly the fields its type has. */
	if (!st || !ss)
		return FALSE;
	switch (m->type) {
	case SIGNALING_OFFER:
		return sr && sf && su && sp && !sturn && !sc;
	case SIGNALING_ANSWER:
		return !sr && sf && su && sp && !sc;
	case SIGNALING_CANDIDATE:
	case SIGNALING_FULL:
		return !sr && !sf && !su && !sp && !sturn && sc;
	case SIGNALING_DONE:
		return !sr && !sf && !su && !sp && !sturn && !sc;
	}
	return FALSE;
}

void
signaling_random_hex(char *out, size_t nbytes)
{
	uint8_t b[64];

	g_assert(nbytes <= sizeof(b));
	gnutls_rnd(GNUTLS_RND_NONCE, b, nbytes);
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

gboolean
signaling_init(SignalingCtx *c, const uint8_t *secret, size_t len, char topic[64])
{
	uint8_t t[KEYS_LEN];

	memset(c, 0, sizeof(*c));
	if (!keys_derive(secret, len, KEYS_RENDEZVOUS_TOPIC, t) ||
	    !keys_derive(secret, len, KEYS_SIGNALING_AEAD, c->key))
		return FALSE;
	/* 128 bits of the topic key name the topic: enough to meet, and it
	 * says nothing of the secret. */
	strcpy(topic, "pixelpass/");
	for (int i = 0; i < 16; i++)
		snprintf(topic + 10 + 2 * i, 3, "%02x", t[i]);
	gnutls_rnd(GNUTLS_RND_NONCE, c->sender, sizeof(c->sender));
	c->seen = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
	    (GDestroyNotify)g_bytes_unref, g_free);
	return TRUE;
}

void
signaling_clear(SignalingCtx *c)
{
	if (c->seen != NULL)
		g_hash_table_destroy(c->seen);
	gnutls_memset(c->key, 0, sizeof(c->key));
	c->seen = NULL;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static gnutls_aead_cipher_hd_t
aead(SignalingCtx *c)
{
	gnutls_aead_cipher_hd_t h;
	gnutls_datum_t k = { c->key, KEYS_LEN };

	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_CHACHA20_POLY1305, &k) < 0)
		return NULL;
	return h;
}

GBytes *
signaling_seal(SignalingCtx *c, const char *text, int64_t now_s)
{
	size_t tlen = strlen(text), outlen;
	uint8_t *env;
	gnutls_aead_cipher_hd_t h;
	int rv;

	if (tlen > SIGNALING_MAX_TEXT || (h = aead(c)) == NULL)
		return NULL;
	outlen = tlen + SIGNALING_TAG_LEN;
	env = g_malloc(SIGNALING_HEADER_LEN + outlen);
	env[0] = SIGNALING_VERSION;
	gnutls_rnd(GNUTLS_RND_NONCE, env + 1, 12);
	memcpy(env + 13, c->sender, 8);
	put64(env + 21, ++c->counter);
	put64(env + 29, (uint64_t)now_s);
	rv = gnutls_aead_cipher_encrypt(h, env + 1, 12, env, SIGNALING_HEADER_LEN,
	    SIGNALING_TAG_LEN, text, tlen, env + SIGNALING_HEADER_LEN, &outlen);
	gnutls_aead_cipher_deinit(h);
	if (rv < 0) {
		g_free(env);
		return NULL;
	}
	return g_bytes_new_take(env, SIGNALING_HEADER_LEN + outlen);
}

/* Forgets senders whose messages are all past the window. */
static void
prune(SignalingCtx *c, int64_t now_s)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, c->seen);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (((SignalingSeen *)v)->time < now_s - 2 * SIGNALING_WINDOW_S)
			g_hash_table_iter_remove(&it);
}

gboolean
signaling_open(SignalingCtx *c, const uint8_t *env, size_t len, int64_t now_s,
    char text[SIGNALING_MAX_TEXT + 1], size_t *text_len)
{
	gnutls_aead_cipher_hd_t h;
	g_autoptr(GBytes) sender = NULL;
	SignalingSeen *seen;
	uint64_t counter;
	int64_t t;
	size_t outlen = SIGNALING_MAX_TEXT;
	int rv;

	/* The cheap checks first: size, version, clock, replay. */
	if (len < SIGNALING_HEADER_LEN + SIGNALING_TAG_LEN ||
	    len > SIGNALING_HEADER_LEN + SIGNALING_TAG_LEN + SIGNALING_MAX_TEXT ||
	    env[0] != SIGNALING_VERSION)
		return FALSE;
	/* Our own message, published back to us (anyone can copy it from
	 * the broker): never for us, and not in c->seen to catch it. */
	if (memcmp(env + 13, c->sender, sizeof(c->sender)) == 0)
		return FALSE;
	counter = get64(env + 21);
	t = (int64_t)get64(env + 29);
	if (t < now_s - SIGNALING_WINDOW_S || t > now_s + SIGNALING_WINDOW_S)
		return FALSE;
	sender = g_bytes_new(env + 13, 8);
	seen = g_hash_table_lookup(c->seen, sender);
	if (seen != NULL && counter <= seen->counter)
		return FALSE;
	if (seen == NULL && g_hash_table_size(c->seen) >= SIGNALING_MAX_SENDERS) {
		prune(c, now_s);
		if (g_hash_table_size(c->seen) >= SIGNALING_MAX_SENDERS)
			return FALSE;
	}
	if ((h = aead(c)) == NULL)
		return FALSE;
	rv = gnutls_aead_cipher_decrypt(h, env + 1, 12, env, SIGNALING_HEADER_LEN,
	    SIGNALING_TAG_LEN, env + SIGNALING_HEADER_LEN, len - SIGNALING_HEADER_LEN,
	    text, &outlen);
	gnutls_aead_cipher_deinit(h);
	if (rv < 0)
		return FALSE;
	/* Authentic: only now is the sender remembered. */
	if (seen == NULL) {
		seen = g_new0(SignalingSeen, 1);
		g_hash_table_insert(c->seen, g_bytes_ref(sender), seen);
	}
	seen->counter = counter;
	seen->time = MAX(seen->time, t);
	text[outlen] = '\0';
	*text_len = outlen;
	return TRUE;
}

GBytes *
signaling_seal_msg(SignalingCtx *c, const SignalingMsg *m)
{
	g_autofree char *text = signaling_msg_encode(m);

	if (text == NULL)
		return NULL;
	return signaling_seal(c, text, g_get_real_time() / G_USEC_PER_SEC);
}

gboolean
signaling_open_msg(SignalingCtx *c, const uint8_t *env, size_t len, SignalingMsg *m)
{
	char text[SIGNALING_MAX_TEXT + 1];
	size_t n;

	if (!signaling_open(c, env, len, g_get_real_time() / G_USEC_PER_SEC, text, &n))
		return FALSE;
	return signaling_msg_decode((const uint8_t *)text, n, m);
}
