#include "acceptor.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>

#include "log.h"

struct Acceptor {
	int fd;
	guint watch, timer;
	gboolean said_fds;		/* this shortage of descriptors, said */
	AcceptorFunc func;
	gpointer data;
};

static gboolean on_readable(int fd, GIOCondition cond, gpointer data);

static gboolean
on_pause_over(gpointer data)
{
	Acceptor *a = data;

	a->timer = 0;
	a->watch = g_unix_fd_add(a->fd, G_IO_IN, on_readable, a);
	return G_SOURCE_REMOVE;
}

static gboolean
on_readable(int fd, GIOCondition cond, gpointer data)
{
	Acceptor *a = data;
	int c;

	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0) {
			a->func(c, a->data);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			if (!a->said_fds)
				log_info("accept: %s: new connections wait until a descriptor is free",
				    g_strerror(errno));
			a->said_fds = TRUE;
			a->watch = 0;
			a->timer = g_timeout_add_seconds(1, on_pause_over, a);
			return G_SOURCE_REMOVE;
		}
		if (errno != EAGAIN)
			log_info("accept: %s", g_strerror(errno));
		else
			a->said_fds = FALSE;	/* all taken: a shortage is over */
		return G_SOURCE_CONTINUE;
	}
}

Acceptor *
acceptor_new(int listen_fd, AcceptorFunc func, gpointer data)
{
	Acceptor *a = g_new0(Acceptor, 1);

	a->fd = listen_fd;
	a->func = func;
	a->data = data;
	a->watch = g_unix_fd_add(listen_fd, G_IO_IN, on_readable, a);
	return a;
}

void
acceptor_free(Acceptor *a)
{
	if (a == NULL)
		return;
	if (a->watch)
		g_source_remove(a->watch);
	if (a->timer)
		g_source_remove(a->timer);
	g_free(a);
}
