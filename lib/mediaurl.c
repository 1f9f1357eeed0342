#include <string.h>

#include <gio/gio.h>

#include "mediaurl.h"

static gboolean
is_rtmp(const char *url)
{
	return g_str_has_prefix(url, "rtmp://") || g_str_has_prefix(url, "rtmps://");
}

char *
media_url_redact(const char *u)
{
	const char *auth = strstr(u, "://"), *path, *at, *q;
	GString *s;

	if (auth == NULL)
		return g_strdup(u);
	auth += 3;
	path = auth + strcspn(auth, "/?");
	s = g_string_new_len(u, auth - u);
	at = memchr(auth, '@', path - auth);
	if (at != NULL)
		g_string_append(s, "***@");
	g_string_append_len(s, at != NULL ? at + 1 : auth,
	    path - (at != NULL ? at + 1 : auth));
	if (is_rtmp(u) && *path == '/') {
		/* rtmp://host/app/key: the key is all after the app */
		const char *key = strchr(path + 1, '/');

		if (key == NULL)
			g_string_append(s, path);
		else {
			g_string_append_len(s, path, key + 1 - path);
			if (key[1] != '\0')
				g_string_append(s, "***");
		}
		return g_string_free(s, FALSE);
	}
	q = strchr(path, '?');
	g_string_append_len(s, path, q != NULL ? q - path : (gssize)strlen(path));
	if (q != NULL) {
		g_auto(GStrv) kv = g_strsplit(q + 1, "&", -1);

		for (int i = 0; kv[i] != NULL; i++) {
			char *eq = strchr(kv[i], '=');

			g_string_append_c(s, i == 0 ? '?' : '&');
			g_string_append_len(s, kv[i], eq != NULL ? eq - kv[i] : (gssize)strlen(kv[i]));
			if (eq != NULL)
				g_string_append(s, "=***");
		}
	}
	return g_string_free(s, FALSE);
}

static char *
replace_all(char *in, const char *what, const char *with)
{
	g_auto(GStrv) parts = g_strsplit(in, what, -1);

	g_free(in);
	return g_strjoinv(with, parts);
}

char *
media_url_scrub(const char *msg, const char *url, const char *shown,
    const char *const *secrets, size_t n)
{
	char *out = replace_all(g_strdup(msg), url, shown);

	if (is_rtmp(url)) {
		const char *p = strstr(url, "://");
		const char *app = p != NULL ? strchr(p + 3, '/') : NULL;
		const char *k = app != NULL ? strchr(app + 1, '/') : NULL;

		if (k != NULL && k[1] != '\0')
			out = replace_all(out, k + 1, "***");
	}
	for (size_t i = 0; i < n; i++)
		if (secrets[i] != NULL && *secrets[i] != '\0')
			out = replace_all(out, secrets[i], "***");
	return out;
}

gboolean
media_url_trust_only(const char *path, GError **error)
{
	g_autofree char *abs = g_canonicalize_filename(path, NULL);
	g_autoptr(GTlsDatabase) db = g_tls_file_database_new(abs, error);

	if (db == NULL)
		return FALSE;
	g_tls_backend_set_default_database(g_tls_backend_get_default(), db);
	return TRUE;
}
