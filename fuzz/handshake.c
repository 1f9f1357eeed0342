/* Fuzz target: what pp-tunnel reads from a peer besides QUIC itself
 * (ngtcp2 and gnutls parse the packets and the TLS handshake): the proof
 * of the secret that opens the stream, arriving in pieces, and the
 * reason phrase of the peer's CONNECTION_CLOSE, which is printed; and,
 * before any of that, a listener's look at a first datagram from a new
 * address (quic_first_datagram), which must never amplify.
 *
 * Input: pieces, each a header byte (bit 7: FIN, bits 0-6: length) and
 * that many bytes; then the rest is the reason phrase. The whole input
 * is also the first datagram. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "quic.h"

static void
proof(const uint8_t *data, size_t size, size_t *end)
{
	QuicProofRx rx = { .len = 0 };
	GByteArray *stream = g_byte_array_new();
	size_t off = 0, got = 0;
	gboolean fin = FALSE, whole = FALSE, shortened = FALSE;

	while (off < size && !fin) {
		size_t n = data[off] & 0x7f, used;
		QuicProofState st;

		fin = (data[off] & 0x80) != 0;
		off++;
		n = MIN(n, size - off);
		g_byte_array_append(stream, data + off, n);
		if (!whole) {
			/* As a bare FIN arrives: no data, maybe NULL. */
			st = quic_proof_take(&rx, n > 0 ? data + off : NULL, n,
			    fin, &used);
			if (used > n || rx.len > QUIC_PROOF_LEN)
				abort();
			got += used;
			if (st == QUIC_PROOF_WHOLE)
				whole = TRUE;
			else if (st == QUIC_PROOF_SHORT)
				shortened = TRUE;
			else if (fin)
				abort();
		}
		off += n;
	}
	/* The proof is exactly the stream's first bytes; never more. */
	if (got != rx.len || (whole && (rx.len != QUIC_PROOF_LEN ||
	    memcmp(rx.buf, stream->data, QUIC_PROOF_LEN) != 0)) ||
	    (whole && shortened) ||
	    (!whole && stream->len >= QUIC_PROOF_LEN))
		abort();
	g_byte_array_unref(stream);
	*end = off;
}

static void
reason(const uint8_t *data, size_t size)
{
	char out[128];
	size_t n;

	quic_reason_text(data, size, out, sizeof(out));
	n = strlen(out);
	if (n != MIN(size, sizeof(out) - 1))
		abort();
	for (size_t i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] >= 0x7f)
			abort();
	quic_reason_text(data, size, out, 1);
	if (out[0] != '\0')
		abort();
}

static void
first_datagram(const uint8_t *data, size_t size)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(4433) };
	uint8_t retry[QUIC_RETRY_MAX];
	size_t retry_len = 0;
	QuicAddrProof proof;
	static gboolean keyed;

	/* The Retry key, random as in pp-tunnel (not all zeros). */
	if (!keyed && !(keyed = quic_init(NULL)))
		abort();
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	switch (quic_first_datagram(data, size, (struct sockaddr *)&from,
	    sizeof(from), &proof, retry, &retry_len)) {
	case QUIC_FIRST_RETRY:
		/* An answer to a sender we do not know is smaller than what
		 * it sent. */
		if (retry_len == 0 || retry_len > QUIC_RETRY_MAX || retry_len >= size)
			abort();
		break;
	case QUIC_FIRST_VALID:
		/* Only a token this process sealed opens; no input forges one. */
		abort();
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t end;

	first_datagram(data, size);
	proof(data, size, &end);
	reason(data + end, size - end);
	return 0;
}
