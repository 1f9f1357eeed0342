/* TURN over TLS for libnice, which has none: a listener on a loopback TCP
 * port that libnice takes for a TURN-over-TCP server; each connection to
 * it is carried to the real server inside a TLS client session (gnutls),
 * whose certificate is verified against the system's trust store and an
 * optional CA file, for the server's name or IP address. Bytes are pumped
 * both ways on the thread-default GLib main context, with bounded
 * buffers. */
#pragma once

#include <glib.h>

typedef struct TlsRelay TlsRelay;

/* Checks that a CA file (PEM) holds at least one certificate. */
gboolean tlsrelay_check_ca(const char *file, GError **error);

/* A relay to the TURN server at addr:port (numeric), verified for name
 * (a host name, or an IP address matched against the certificate's IP
 * addresses); ca_file may be NULL. */
TlsRelay *tlsrelay_new(const char *name, const char *addr, guint port,
    const char *ca_file, GError **error);

/* The loopback address and port to hand to libnice. */
const char *tlsrelay_addr(TlsRelay *r);
guint tlsrelay_port(TlsRelay *r);

/* Why a connection to the server failed (connect, handshake,
 * verification), or NULL when none has. It is also logged, once. */
const char *tlsrelay_error(TlsRelay *r);

/* Closes the listener and every connection. */
void tlsrelay_free(TlsRelay *r);
