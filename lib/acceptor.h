/* Accepting connections on a listening socket from the main loop without
 * spinning: every waiting connection is taken at each wakeup (one per
 * wakeup made 300 quick connects take 10 s), and when the process is out
 * of descriptors the listener, which stays readable, is left alone for a
 * second instead of being polled at full speed; that is said once. */
#pragma once

#include <glib.h>

typedef struct Acceptor Acceptor;

/* Called with each new connection (nonblocking, close-on-exec), which it
 * now owns. */
typedef void (*AcceptorFunc)(int conn, gpointer data);

Acceptor *acceptor_new(int listen_fd, AcceptorFunc func, gpointer data);
/* Stops watching; the listening socket stays open. */
void acceptor_free(Acceptor *a);
