/* lib/status: the event lines of --status-fd, as a reader parses them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"
#include "tap.h"

static char *
fmt(const char *event, ...)
{
	va_list ap;
	char *s;

	va_start(ap, event);
	s = status_format(event, ap);
	va_end(ap);
	return s;
}


int
main(void)
{
	static const char *const want[][2] = {
		{ "ready", "an event alone" },
		{ "viewer-arrived id=3 path=direct rtt_ms=1.9", "keys in the order given" },
		{ "player-started pid=42 log=/run/user/1000/a%20b.log", "a space escaped" },
		{ "viewer-left id=1 reason=%1B[31mred%0A", "an escape, a newline and controls escaped" },
		{ "x k=100%25 empty=", "a percent sign escaped, an empty value" },
	};
	char *got[5];
	char buf[256];
	int p[2];
	ssize_t n;

	printf("1..%d\n", 5 + 3);
	got[0] = fmt("ready", NULL);
	got[1] = fmt("viewer-arrived", "id", "3", "path", "direct", "rtt_ms", "1.9", NULL);
	got[2] = fmt("player-started", "pid", "42", "log", "/run/user/1000/a b.log", NULL);
	got[3] = fmt("viewer-left", "id", "1", "reason", "\033[31mred\n", NULL);
	got[4] = fmt("x", "k", "100%", "empty", NULL, NULL);
	for (int i = 0; i < 5; i++) {
		ok(strcmp(got[i], want[i][0]) == 0, "%s", want[i][1]);
		if (strcmp(got[i], want[i][0]) != 0)
			diag("got \"%s\", expected \"%s\"", got[i], want[i][0]);
		free(got[i]);
	}

	ok(!status_enabled(), "no events without --status-fd");
	if (pipe(p) != 0 || p[1] < 3)
		return 1;
	snprintf(buf, sizeof(buf), "%d", p[1]);
	status_open(buf);
	status_event("producer-started", "pid", "7", NULL);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	ok(strcmp(buf, "producer-started pid=7\n") == 0, "one line on the fd, newline-terminated");
	close(p[0]);
	status_event("ignored", NULL);
	ok(!status_enabled(), "a reader that has gone ends the events, without SIGPIPE");
	return n_failed != 0;
}
