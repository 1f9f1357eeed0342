/* Fuzz target: pp-bridge's HTTP request parser (lib/http.c), which reads
 * whatever a local client sends. The parser is called as pp-bridge calls
 * it, on the bytes so far, at a few cut points and on the whole input;
 * each buffer is its own allocation of exactly that length, so a read
 * past the end is caught. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

/* The corpus names this token and port (fuzz/corpus/http). */
static const HttpSite site = { .token = "tok3n", .port = 8080 };

static int
parse(const uint8_t *data, size_t len)
{
	char *buf = g_malloc(len > 0 ? len : 1);
	HttpRequest req;
	int status;

	if (len > 0)
		memcpy(buf, data, len);
	status = http_parse_request(buf, len, &site, &req);
	g_free(buf);
	if (status != 0 && status != 200 && status != 400 && status != 403 &&
	    status != 404 && status != 405)
		abort();
	if (status == 200 && req.minor != 0 && req.minor != 1)
		abort();
	return status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status = parse(data, size);
	char *resp;

	/* A verdict on the bytes so far is final: more bytes never change
	 * it (pp-bridge answers as soon as it has one). */
	for (size_t cut = 1; cut < size; cut = cut * 2 + 1) {
		int early = parse(data, cut);

		if (early != 0 && early != status)
			abort();
	}
	resp = status == 200 ? http_stream_response() :
	    http_error_response(status != 0 ? status : 400);
	if (resp == NULL || strncmp(resp, "HTTP/1.0 ", 9) != 0)
		abort();
	g_free(resp);
	return 0;
}
