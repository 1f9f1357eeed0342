/* Fuzz target: the ticket decoder (lib/ticket.c), the first thing a
 * viewer does with a string from anyone. Two ways in: the input as the
 * ticket text, and the input as the binary layout, given a valid
 * checksum and encoded, so the fuzzer gets past the CRC to the entries.
 * Every ticket that decodes must encode back to one that decodes the
 * same. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ticket.h"

static void
check(const char *text)
{
	Ticket t, u;
	char *again;

	if (!ticket_decode(text, &t))
		return;
	if (t.n_addrs > TICKET_MAX_ADDRS ||
	    strlen(t.rendezvous) > TICKET_MAX_URL)
		abort();
	for (guint i = 0; i < t.n_addrs; i++) {
		struct sockaddr_storage ss;
		char *s = ticket_addr_string(&t, i);

		if (ticket_sockaddr(&t, i, &ss) == 0 || s == NULL)
			abort();
		g_free(s);
	}
	again = ticket_encode(&t);
	if (again == NULL || !ticket_decode(again, &u) ||
	    memcmp(t.secret, u.secret, sizeof(t.secret)) != 0 ||
	    t.port != u.port || t.n_addrs != u.n_addrs ||
	    strcmp(t.rendezvous, u.rendezvous) != 0)
		abort();
	for (guint i = 0; i < t.n_addrs; i++)
		if (t.addrs[i].family != u.addrs[i].family ||
		    memcmp(t.addrs[i].addr, u.addrs[i].addr,
		    t.addrs[i].family == AF_INET ? 4 : 16) != 0)
			abort();
	g_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size);
	char *wrapped;

	check(text);
	g_free(text);
	if (size <= 512) {
		wrapped = ticket_seal(data, size);
		check(wrapped);
		g_free(wrapped);
	}
	return 0;
}
