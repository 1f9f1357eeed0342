/* The one HTTP request pp-bridge understands: GET (or HEAD) of its stream,
 * HTTP/1.0 or 1.1. Hand-written because that is all it needs; it takes
 * untrusted bytes and never reads past the length it is given. */
#pragma once

#include <glib.h>
#include <stddef.h>

#define HTTP_MAX_REQUEST	8192	/* request line and headers */

typedef struct {
	gboolean head;		/* HEAD: headers only */
	int minor;		/* HTTP/1.minor */
} HttpRequest;

/* Who may ask. Any local user can connect to a loopback port, and a web
 * page can make the browser do it under a name that resolves to
 * 127.0.0.1 (DNS rebinding): the path carries a secret, and a Host, when
 * the client names one, must be this machine's loopback at this port. */
typedef struct {
	const char *token;	/* the stream is /TOKEN/ and /TOKEN/stream.ts */
	unsigned port;
} HttpSite;

/* Parses buf[0..len), the bytes a client sent so far. Returns 0 while the
 * request is incomplete, 200 for a GET or HEAD of "/TOKEN/" (or
 * "/TOKEN/stream.ts", with or without a query), else the status to answer
 * with: 400 (not HTTP, too long, a malformed header, two Host headers),
 * 403 (a Host other than 127.0.0.1, [::1] or localhost at the site's
 * port, also in an absolute-form target), 404 (another path) or 405
 * (another method). A bad request line is answered as soon as it is
 * whole. */
int http_parse_request(const char *buf, size_t len, const HttpSite *site,
    HttpRequest *req);

/* The whole response for an error status: status line, a few headers,
 * and a one-line body. */
char *http_error_response(int status);

/* The response header that precedes the stream. */
char *http_stream_response(void);
