#include "lastline.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct LastLine {
	int fd;
	guint watch;
	char cur[LASTLINE_MAX + 1];	/* the line being read */
	size_t cur_len;
	char last[LASTLINE_MAX + 1];
	gboolean have_last;
};

static void
take(LastLine *l, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			if (l->cur_len > 0) {
				memcpy(l->last, l->cur, l->cur_len);
				l->last[l->cur_len] = '\0';
				l->have_last = TRUE;
			}
			l->cur_len = 0;
		} else if (l->cur_len < LASTLINE_MAX)
			l->cur[l->cur_len++] = buf[i];
	}
}

/* Reads what is there: FALSE at EOF or an error. */
static gboolean
drain(LastLine *l)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(l->fd, buf, sizeof(buf));

		if (n > 0) {
			/* Passed on whole: ours is the child's stderr too. */
			for (ssize_t off = 0, w; off < n; off += w)
				if ((w = write(STDERR_FILENO, buf + off, n - off)) <= 0)
					break;
			take(l, buf, n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return TRUE;
		/* EOF: a last line without its newline counts too. */
		take(l, "\n", 1);
		return FALSE;
	}
}

static gboolean
on_data(int fd, GIOCondition cond, gpointer data)
{
	LastLine *l = data;

	if (drain(l))
		return G_SOURCE_CONTINUE;
	l->watch = 0;
	return G_SOURCE_REMOVE;
}

LastLine *
lastline_new(int fd)
{
	LastLine *l = g_new0(LastLine, 1);

	l->fd = fd;
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	l->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_data, l);
	return l;
}

void
lastline_free(LastLine *l)
{
	if (l == NULL)
		return;
	if (l->watch != 0)
		g_source_remove(l->watch);
	close(l->fd);
	g_free(l);
}

const char *
lastline_get(LastLine *l)
{
	if (l->watch != 0 && !drain(l)) {
		g_source_remove(l->watch);
		l->watch = 0;
	}
	return l->have_last ? l->last : NULL;
}

char *
lastline_reason(LastLine *l, const char *prog, int wait_status,
    gboolean with_status)
{
	const char *line = l != NULL ? lastline_get(l) : NULL;

	if (WIFSIGNALED(wait_status))
		return g_strdup_printf("%s was killed by signal %d (%s)", prog,
		    WTERMSIG(wait_status), g_strsignal(WTERMSIG(wait_status)));
	if (!WIFEXITED(wait_status))
		return g_strdup_printf("%s ended with wait status %#x", prog,
		    wait_status);
	if (WEXITSTATUS(wait_status) == 0)
		return NULL;
	if (line != NULL && !with_status)
		return g_strdup(line);
	if (line != NULL)
		return g_strdup_printf("%s (exit %d)", line,
		    WEXITSTATUS(wait_status));
	return g_strdup_printf("%s exited with status %d", prog,
	    WEXITSTATUS(wait_status));
}
