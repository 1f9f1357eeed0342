/* Keys derived from the ticket's secret with HKDF-SHA-256 (RFC 5869), one
 * distinct label per use, so a key for one purpose says nothing about
 * another. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_LEN 32	/* SHA-256 */

/* What a key is for: each has its own HKDF "info" label. */
typedef enum {
	KEYS_DIRECT_PROOF,	/* HMAC key proving the secret on the direct path */
	KEYS_RENDEZVOUS_TOPIC,	/* the rendezvous topic name (part 2) */
	KEYS_SIGNALING_AEAD,	/* the signaling messages' AEAD key (part 2) */
} KeysUse;

/* RFC 5869: out = HKDF-Expand(HKDF-Extract(salt, ikm), info, outlen).
 * Returns FALSE only if gnutls fails. */
gboolean keys_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen);

/* A KEYS_LEN-byte key for use from a secret. */
gboolean keys_derive(const uint8_t *secret, size_t secretlen, KeysUse use,
    uint8_t out[KEYS_LEN]);

/* HMAC-SHA-256. */
gboolean keys_hmac(const uint8_t key[KEYS_LEN], const void *data, size_t len,
    uint8_t out[KEYS_LEN]);

/* Constant-time comparison; TRUE when equal. */
gboolean keys_equal(const uint8_t *a, const uint8_t *b, size_t len);
