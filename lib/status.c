#include "status.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "opt.h"

static int status_fd = -1;

void
status_open(const char *arg)
{
	int fd = (int)opt_number("--status-fd", arg, 0, 65535);

	if (fcntl(fd, F_GETFD) == -1)
		errx(EX_USAGE, "--status-fd %d: not an open file descriptor (open it for the tool, as in 3>file or 3>&1)",
		    fd);
	if (fd <= STDERR_FILENO)
		errx(EX_USAGE, "--status-fd %d: standard input, output and error are taken; give 3 or above (3>&1 sends the events to the caller's output)",
		    fd);
	/* Not handed on to the programs the tool runs. */
	fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	status_fd = fd;
}

gboolean
status_enabled(void)
{
	return status_fd >= 0;
}

static void
append_value(GString *s, const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p < '!' || *p > '~' || *p == '%')
			g_string_append_printf(s, "%%%02X", *p);
		else
			g_string_append_c(s, (char)*p);
	}
}

char *
status_format(const char *event, va_list ap)
{
	GString *s = g_string_new(event);
	const char *k, *v;

	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		g_string_append_printf(s, " %s=", k);
		append_value(s, v != NULL ? v : "");
	}
	return g_string_free(s, FALSE);
}

void
status_event(const char *event, ...)
{
	g_autofree char *line = NULL, *out = NULL;
	va_list ap;
	ssize_t n;

	if (status_fd < 0)
		return;
	va_start(ap, event);
	line = status_format(event, ap);
	va_end(ap);
	out = g_strconcat(line, "\n", NULL);
	do
		n = write(status_fd, out, strlen(out));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EPIPE) {
		close(status_fd);
		status_fd = -1;
	}
}
