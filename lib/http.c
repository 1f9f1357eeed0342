#include "http.h"

#include <string.h>

/* RFC 9110 token characters. */
static gboolean
is_tchar(unsigned char c)
{
	return g_ascii_isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The end of the line starting at p (the '\n'), or NULL when not in
 * buf[0..len). */
static const char *
line_end(const char *p, const char *end)
{
	return memchr(p, '\n', end - p);
}

/* Length of a line without its "\r\n" or "\n". */
static size_t
line_len(const char *p, const char *nl)
{
	size_t n = nl - p;

	return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

/* "/TOKEN/" or "/TOKEN/stream.ts", a query allowed. */
static gboolean
path_is_stream(const char *p, size_t n, const HttpSite *site)
{
	const char *q = memchr(p, '?', n);
	size_t t = strlen(site->token);

	if (q != NULL)
		n = q - p;
	if (n < t + 2 || p[0] != '/' || memcmp(p + 1, site->token, t) != 0 ||
	    p[t + 1] != '/')
		return FALSE;
	p += t + 1;
	n -= t + 1;
	return n == 1 || (n == 10 && memcmp(p, "/stream.ts", 10) == 0);
}

/* A Host (header value, or the authority of an absolute-form target):
 * 127.0.0.1, [::1] or localhost, at the site's port, any case. */
static gboolean
host_is_ours(const char *p, size_t n, const HttpSite *site)
{
	static const char *const names[] = { "127.0.0.1", "[::1]", "localhost" };
	char port[16];
	int pn = snprintf(port, sizeof(port), ":%u", site->port);

	while (n > 0 && (p[0] == ' ' || p[0] == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		size_t h = strlen(names[i]);

		if (n == h + (size_t)pn && g_ascii_strncasecmp(p, names[i], h) == 0 &&
		    memcmp(p + h, port, pn) == 0)
			return TRUE;
	}
	return FALSE;
}

/* "METHOD SP target SP HTTP/1.x": 0 when good, else the status. */
static int
parse_request_line(const char *p, size_t n, const HttpSite *site,
    HttpRequest *req)
{
	size_t i = 0, m, t0, t1;

	while (i < n && is_tchar(p[i]))
		i++;
	m = i;
	if (m == 0 || i >= n || p[i] != ' ')
		return 400;
	t0 = ++i;
	while (i < n && p[i] != ' ') {
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			return 400;
		i++;
	}
	t1 = i;
	if (t1 == t0 || i >= n || p[i] != ' ')
		return 400;
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 ||
	    (p[i + 7] != '0' && p[i + 7] != '1'))
		return 400;
	req->minor = p[i + 7] - '0';
	if (m == 3 && memcmp(p, "GET", 3) == 0)
		req->head = FALSE;
	else if (m == 4 && memcmp(p, "HEAD", 4) == 0)
		req->head = TRUE;
	else
		return 405;
	/* absolute-form: http://host[:port]/path */
	if (t1 - t0 > 7 && g_ascii_strncasecmp(p + t0, "http://", 7) == 0) {
		const char *a = p + t0 + 7;
		const char *slash = memchr(a, '/', p + t1 - a);

		if (!host_is_ours(a, (slash != NULL ? slash : p + t1) - a, site))
			return 403;
		if (slash == NULL)
			return 404;
		t0 = slash - p;
	}
	if (p[t0] != '/')
		return 400;
	return path_is_stream(p + t0, t1 - t0, site) ? 0 : 404;
}

/* "name: value": a token, a colon, no control characters. */
static gboolean
header_ok(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return FALSE;
	for (i++; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return FALSE;
	return TRUE;
}

/* No whole line left: wait for more, unless what there is is already bad. */
static int
incomplete(const char *p, const char *end, size_t len)
{
	if (memchr(p, '\0', end - p) != NULL || len >= HTTP_MAX_REQUEST)
		return 400;
	return 0;
}

int
http_parse_request(const char *buf, size_t len, const HttpSite *site,
    HttpRequest *req)
{
	const char *end, *p = buf, *nl;
	int status = 0, hosts = 0;
	gboolean foreign = FALSE;

	memset(req, 0, sizeof(*req));
	if (len > HTTP_MAX_REQUEST)
		len = HTTP_MAX_REQUEST;
	end = buf + len;
	/* Only the request's own lines are looked at (a NUL in them is bad):
	 * bytes after the blank line must not change the verdict, which
	 * would then depend on how the reads were cut. */
	nl = line_end(p, end);
	if (nl == NULL)
		return incomplete(p, end, len);
	if (memchr(p, '\0', nl - p) != NULL)
		return 400;
	status = parse_request_line(p, line_len(p, nl), site, req);
	if (status == 400)
		return 400;
	/* Headers up to the empty line; a bad one is a bad request even
	 * when the path or method is wrong too. */
	for (p = nl + 1; ; p = nl + 1) {
		size_t n;

		nl = line_end(p, end);
		if (nl == NULL)
			return incomplete(p, end, len);
		n = line_len(p, nl);
		if (n == 0)
			break;
		if (memchr(p, '\0', n) != NULL || p[0] == ' ' || p[0] == '\t' ||
		    !header_ok(p, n))
			return 400;	/* obsolete line folding, or garbage */
		if (n >= 5 && g_ascii_strncasecmp(p, "host:", 5) == 0) {
			hosts++;
			foreign = foreign || !host_is_ours(p + 5, n - 5, site);
		}
	}
	if (hosts > 1)
		return 400;
	if (foreign || status == 403)
		return 403;
	return status != 0 ? status : 200;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

char *
http_error_response(int status)
{
	g_autofree char *body = g_strdup_printf("%d %s\n", status, reason(status));

	return g_strdup_printf("HTTP/1.0 %d %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Connection: close\r\n"
	    "\r\n%s", status, reason(status), strlen(body),
	    status == 405 ? "Allow: GET, HEAD\r\n" : "", body);
}

char *
http_stream_response(void)
{
	/* No length: the stream lasts as long as it lasts. */
	return g_strdup("HTTP/1.0 200 OK\r\n"
	    "Content-Type: video/mp2t\r\n"
	    "Cache-Control: no-cache, no-store\r\n"
	    "Connection: close\r\n"
	    "\r\n");
}
