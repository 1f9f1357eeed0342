/* URLs of media servers (rtmp://, rtmps://, srt://, http(s)://), as
 * pp-publish sends to them and pp-fetch reads from them: shown without
 * their secrets, and the certificate authority an rtmps:// or https://
 * connection trusts. */
#pragma once

#include <glib.h>

/* The URL as messages show it: an RTMP URL's stream key (what follows
 * the application), any user:password and any query's values are
 * replaced by "***". */
char *media_url_redact(const char *url);

/* msg with url replaced by shown, and with the RTMP stream key of url and
 * each of the n secrets (NULL or empty ones skipped) replaced by "***":
 * GStreamer's messages may quote the location or the stream name. */
char *media_url_scrub(const char *msg, const char *url, const char *shown,
    const char *const *secrets, size_t n);

/* TLS connections of this process (GStreamer's RTMP and HTTP elements
 * have no property for it) trust the certificate authorities of the PEM
 * file path only. FALSE with *error set when it cannot be read. */
gboolean media_url_trust_only(const char *path, GError **error);
