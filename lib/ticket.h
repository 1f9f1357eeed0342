/* The ticket: one copy-pasteable word that tells a viewer where a host is
 * and carries the secret both sides prove they hold. Layout in
 * pp-tunnel(1), section TICKET. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#define TICKET_PREFIX "pp1"
#define TICKET_SECRET_LEN 16
#define TICKET_MAX_ADDRS 8
#define TICKET_MAX_URL 200

typedef struct {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* 4 or 16 bytes, network order */
} TicketAddr;

typedef struct {
	uint8_t secret[TICKET_SECRET_LEN];
	uint16_t port;		/* one UDP port for every address */
	TicketAddr addrs[TICKET_MAX_ADDRS];
	guint n_addrs;
	char rendezvous[TICKET_MAX_URL + 1];	/* "" means the default */
} Ticket;

/* Returns a newly allocated ticket string ("pp1..."), or NULL when the
 * ticket does not fit the layout (too many addresses, URL too long). */
char *ticket_encode(const Ticket *t);
/* The ticket text of an encoded body: the prefix, then base32 of the body
 * and its CRC-32 (ticket_encode's last step; the fuzzer wraps raw bytes). */
char *ticket_seal(const uint8_t *body, size_t len);

/* Parses s (surrounding white space ignored, letters in either case).
 * Returns FALSE when anything is wrong with it: the caller says "ticket is
 * damaged". */
gboolean ticket_decode(const char *s, Ticket *t);

/* Adds an address; FALSE when it is already there or the ticket is full. */
gboolean ticket_add_addr(Ticket *t, const struct sockaddr *sa);

/* The i-th address with the ticket's port, as a socket address. */
socklen_t ticket_sockaddr(const Ticket *t, guint i, struct sockaddr_storage *ss);

/* "192.0.2.1:4433" or "[2001:db8::1]:4433", newly allocated. */
char *ticket_addr_string(const Ticket *t, guint i);
