#include "keys.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

/* The salt binds every key to this protocol and ticket version. */
#define KEYS_SALT "pixelpass ticket v1"

static const char *const labels[] = {
	[KEYS_DIRECT_PROOF] = "pixelpass direct-path proof",
	[KEYS_RENDEZVOUS_TOPIC] = "pixelpass rendezvous topic",
	[KEYS_SIGNALING_AEAD] = "pixelpass signaling aead",
};

gboolean
keys_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	uint8_t prk[KEYS_LEN];
	gnutls_datum_t k = { (unsigned char *)ikm, ikmlen };
	gnutls_datum_t s = { (unsigned char *)salt, saltlen };
	gnutls_datum_t p = { prk, sizeof(prk) };
	gnutls_datum_t i = { (unsigned char *)info, infolen };
	int rv;

	/* An empty salt means HashLen zero bytes (RFC 5869, 2.2). */
	static const uint8_t zeros[KEYS_LEN];
	if (saltlen == 0) {
		s.data = (unsigned char *)zeros;
		s.size = sizeof(zeros);
	}
	rv = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &k, &s, prk);
	if (rv == 0)
		rv = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &p, &i, out, outlen);
	gnutls_memset(prk, 0, sizeof(prk));
	return rv == 0;
}

gboolean
keys_derive(const uint8_t *secret, size_t secretlen, KeysUse use,
    uint8_t out[KEYS_LEN])
{
	const char *label = labels[use];

	return keys_hkdf((const uint8_t *)KEYS_SALT, strlen(KEYS_SALT), secret,
	    secretlen, (const uint8_t *)label, strlen(label), out, KEYS_LEN);
}

gboolean
keys_hmac(const uint8_t key[KEYS_LEN], const void *data, size_t len,
    uint8_t out[KEYS_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, KEYS_LEN, data, len,
	    out) == 0;
}

gboolean
keys_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return gnutls_memcmp(a, b, len) == 0;
}
