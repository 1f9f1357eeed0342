/* Unit test of lib/http's request parser: what pp-bridge accepts, what it
 * answers 400/404/405, incomplete and oversized requests, garbage. TAP. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "tap.h"

static const HttpSite site = { .token = "tok3n", .port = 8080 };

static void
expect(const char *req, size_t len, int want, const char *desc)
{
	HttpRequest r;
	int got = http_parse_request(req, len, &site, &r);

	ok(got == want, "%s (got %d)", desc, got);
}

#define T(s, want, desc) expect(s, sizeof(s) - 1, want, desc)

int
main(void)
{
	static char big[HTTP_MAX_REQUEST + 100];
	GRand *r = g_rand_new_with_seed(1);
	HttpRequest req;
	int i, j, bad = 0;

	printf("1..%d\n", 26 + 11);
	T("GET /tok3n/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: mpv\r\n\r\n", 200, "GET /tok3n/ HTTP/1.1");
	T("GET /tok3n/ HTTP/1.0\n\n", 200, "bare LF line ends");
	T("GET /tok3n/stream.ts?x=1 HTTP/1.1\r\n\r\n", 200, "/stream.ts with a query");
	T("GET http://127.0.0.1:8080/tok3n/ HTTP/1.1\r\n\r\n", 200, "absolute-form target");
	T("HEAD /tok3n/ HTTP/1.1\r\n\r\n", 200, "HEAD");
	T("GET /tok3n/ HTTP/1.1\r\nHost: x\r\n", 0, "headers not finished yet: wait");
	T("GET /tok3n/ HTT", 0, "request line not finished yet: wait");
	T("", 0, "nothing yet: wait");
	T("GET /nope HTTP/1.1\r\n\r\n", 404, "another path: 404");
	T("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "POST: 405");
	T("BREW / HTTP/1.1\r\nA: b\r\n\r\n", 405, "an unknown method: 405");
	T("garbage\r\n", 400, "a garbage line: 400 without waiting for more");
	T("GET /tok3n/ HTTP/2.0\r\n\r\n", 400, "HTTP/2.0: 400");
	T("GET /\r\n\r\n", 400, "HTTP/0.9 request line: 400");
	T("GET  / HTTP/1.1\r\n\r\n", 400, "two spaces: 400");
	T("G\x01T / HTTP/1.1\r\n\r\n", 400, "control character in the method: 400");
	T("GET /tok3n/ HTTP/1.1\r\nNo colon here\r\n\r\n", 400, "header without a colon: 400");
	T("GET /tok3n/ HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "obsolete line folding: 400");
	T("GET /tok3n/ HTTP/1.1\r\nA: b\0c\r\n\r\n", 400, "NUL byte: 400");
	T("GET /tok3n/\x7f HTTP/1.1\r\n\r\n", 400, "DEL in the target: 400");
	/* Found by fuzz/http.c: a NUL after the request changed the verdict
	 * on a request that was already whole. */
	T("GET /tok3n/ HTTP/1.1\r\nA: b\r\n\r\nmore\0", 200, "a NUL after the blank line is not the request's: 200");
	T("GET /tok3n/ HTTP/1.1\r\nA: \0", 400, "a NUL in an unfinished header: 400 at once");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /tok3n/ HTTP/1.1\r\nX: ", 25);
	expect(big, HTTP_MAX_REQUEST, 400, "headers that never end within the limit: 400");
	expect(big, sizeof(big), 400, "more than the limit: 400, nothing read past it");
	expect("GET /tok3n/ HTTP/1.1\r\n\r\n", 5, 0, "a length shorter than the string is respected");

	/* The secret path, and who may ask (DNS rebinding). */
	T("GET / HTTP/1.1\r\n\r\n", 404, "the root without the token: 404");
	T("GET /stream.ts HTTP/1.1\r\n\r\n", 404, "/stream.ts without the token: 404");
	T("GET /tok3m/ HTTP/1.1\r\n\r\n", 404, "another token: 404");
	T("GET /tok3n HTTP/1.1\r\n\r\n", 404, "the token without its slash: 404");
	T("GET /tok3n/ HTTP/1.1\r\nHost: localhost:8080\r\n\r\n", 200, "Host localhost:PORT: 200");
	T("GET /tok3n/ HTTP/1.1\r\nhost: [::1]:8080\r\n\r\n", 200, "Host [::1]:PORT, any case: 200");
	T("GET /tok3n/ HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n", 403, "a Host that is another name: 403");
	T("GET /tok3n/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n", 403, "a Host with another port: 403");
	T("GET /nope HTTP/1.1\r\nHost: evil.example\r\n\r\n", 403, "a foreign Host is told 403, whatever the path");
	T("GET /tok3n/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nHost: 127.0.0.1:8080\r\n\r\n", 400, "two Host headers: 400");
	T("GET http://evil.example:8080/tok3n/ HTTP/1.1\r\n\r\n", 403, "an absolute-form target on another host: 403");
	/* Random bytes, with the characters that matter made common. */
	for (i = 0; i < 100000; i++) {
		char buf[200];
		int n = g_rand_int_range(r, 0, sizeof(buf)), s;

		for (j = 0; j < n; j++) {
			static const char pick[] = "GET / HTTP/1.1\r\n: ";

			buf[j] = g_rand_boolean(r) ? pick[g_rand_int_range(r, 0,
			    sizeof(pick) - 1)] : (char)g_rand_int(r);
		}
		s = http_parse_request(buf, n, &site, &req);
		bad += s != 0 && s != 200 && s != 400 && s != 403 && s != 404 && s != 405;
	}
	ok(bad == 0, "100000 random requests: only the statuses documented");
	g_rand_free(r);
	return n_failed || n_test != 26 + 11;
}
