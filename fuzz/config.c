/* Fuzz target: the config reader and writer (lib/config.c). The file is
 * the user's own, but it is edited by hand and by other programs, and a
 * bad one must get a line number, never a crash. What parses is looked
 * up as pixelpass looks it up, then changed as pp-config changes it: one
 * key set or removed, chosen from the input. The result must parse again,
 * hold the new value, and keep every line the change does not own, in
 * order; unchanged, it must be the input byte for byte. Now and then it
 * goes through the file too: saved, and loaded back the same. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char *dir, *path;

static void
cleanup(void)
{
	g_unlink(path);
	g_rmdir(dir);
}

/* The lines of text, without a last empty one after the final newline. */
static GStrv
lines_of(const char *text, gsize len)
{
	g_autofree char *copy = g_strndup(text, len);	/* not terminated */
	GStrv v = g_strsplit(copy, "\n", -1);
	guint n = g_strv_length(v);

	if (n > 0 && len > 0 && text[len - 1] == '\n') {
		g_free(v[n - 1]);
		v[n - 1] = NULL;
	}
	if (len == 0) {
		g_strfreev(v);
		v = g_new0(char *, 1);
	}
	return v;
}

/* How many lines of a and of b lie between their common first and last
 * lines: what a change replaced, and with how many. */
static void
changed_lines(GStrv a, GStrv b, guint *in_a, guint *in_b)
{
	guint na = g_strv_length(a), nb = g_strv_length(b);
	guint p = 0, s = 0, m = MIN(na, nb);

	while (p < m && strcmp(a[p], b[p]) == 0)
		p++;
	while (s < m - p && strcmp(a[na - 1 - s], b[nb - 1 - s]) == 0)
		s++;
	*in_a = na - p - s;
	*in_b = nb - p - s;
}

typedef struct {
	GPtrArray *keys;	/* "table\nkey" of every key, in order */
} Keys;

static gboolean
collect(const char *table, const char *key, ConfigType type,
    const char *const *values, guint line, gpointer data)
{
	Keys *k = data;

	if (key != NULL)
		g_ptr_array_add(k->keys, g_strdup_printf("%s\n%s", table, key));
	return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "status", "upstream_mbps",
	    "measured_at", "rendezvous", "stun", "turn", NULL };
	static const char *const tables[] = { "", "bandwidth", "network",
	    "frontend", "not bare" };
	const char *text = (const char *)data;
	GError *error = NULL;
	Config *c, *again;
	Keys keys = { g_ptr_array_new_with_free_func(g_free) };
	char *out, *table, *key, *value;
	gsize out_len;
	guint32 h = 2166136261u;
	gboolean had, ok = TRUE;
	GStrv before, after;
	int op;

	if (dir == NULL) {
		dir = g_dir_make_tmp("pp-fuzz-config.XXXXXX", NULL);
		if (dir == NULL)
			abort();
		path = g_build_filename(dir, "config.toml", NULL);
		atexit(cleanup);
	}
	c = config_parse(path, text, size, &error);
	if (c == NULL) {
		/* Every refusal names the file and the line. */
		if (error == NULL || !g_str_has_prefix(error->message, path) ||
		    error->message[strlen(path)] != ':')
			abort();
		g_error_free(error);
		g_ptr_array_free(keys.keys, TRUE);
		return 0;
	}
	for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
		for (size_t k = 0; known[k] != NULL; k++) {
			const char *const *v = config_get(c, tables[t], known[k]);

			for (; v != NULL && *v != NULL; v++)
				if (strlen(*v) > size)
					abort();
		}
		if (!config_check_keys(c, tables[t], known, &error))
			g_clear_error(&error);
	}
	/* What the reader keeps, the writer gives back as it was. */
	out = config_render(c, &out_len);
	if (out_len != size || memcmp(out, data, size) != 0)
		abort();
	g_free(out);

	/* The change: from a hash of the input, a key of the file or one of
	 * a table it may not have; set to a string or an integer, or unset. */
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	config_foreach(c, collect, &keys);
	if (keys.keys->len > 0 && (h & 1)) {
		char **tk = g_strsplit(keys.keys->pdata[(h >> 1) % keys.keys->len], "\n", 2);

		table = g_strdup(tk[0]);
		key = g_strdup(tk[1]);
		g_strfreev(tk);
	} else {
		table = g_strdup(tables[(h >> 1) % G_N_ELEMENTS(tables)]);
		key = g_strdup(known[(h >> 4) % (G_N_ELEMENTS(known) - 1)]);
	}
	op = (h >> 8) % 3;
	/* The string: the input's last bytes, which may hold anything. */
	value = g_strndup(size > 12 ? text + size - 12 : text, MIN(size, 12));
	had = config_get(c, table, key) != NULL;
	before = lines_of(text, size);
	if (op == 0)
		ok = config_set_string(c, table, key, value, &error);
	else if (op == 1)
		ok = config_set_integer(c, table, key, (gint32)h, &error);
	else
		ok = config_unset(c, table, key) == had;
	if (!ok && op != 2) {
		/* Refused: a name that is not bare, a control character;
		 * then nothing changed. */
		g_clear_error(&error);
		out = config_render(c, &out_len);
		if (out_len != size || memcmp(out, data, size) != 0)
			abort();
		g_free(out);
	} else if (!ok)
		abort();

	out = config_render(c, &out_len);
	again = config_parse(path, out, out_len, &error);
	if (again == NULL)
		abort();
	after = lines_of(out, out_len);
	if (ok) {
		const char *const *v = config_get(again, table, key);
		guint gone, added;

		changed_lines(before, after, &gone, &added);
		switch (op) {
		case 0:
		case 1:
			if (v == NULL || v[0] == NULL || v[1] != NULL)
				abort();
			if (op == 0 && strcmp(v[0], value) != 0)
				abort();
			if (op == 1 && g_ascii_strtoll(v[0], NULL, 10) != (gint32)h)
				abort();
			/* The key's own line is replaced, or up to three are
			 * added (a blank line, the header, the key). */
			if (had ? (gone > 1 || added != gone) :
			    (gone != 0 || added < 1 || added > 3))
				abort();
			break;
		case 2:
			if (v != NULL || gone != (guint)had || added != 0)
				abort();
			break;
		}
	}
	/* Through the file, for one input in 64: fsync is slow. */
	if (((h >> 12) & 63) == 0) {
		Config *loaded;
		char *back;
		gsize back_len;

		if (!config_save(c, &error))
			abort();
		if ((loaded = config_load(path, &error)) == NULL)
			abort();
		back = config_render(loaded, &back_len);
		if (back_len != out_len || memcmp(back, out, out_len) != 0)
			abort();
		g_free(back);
		config_free(loaded);
		g_unlink(path);
	}
	g_strfreev(before);
	g_strfreev(after);
	g_free(out);
	g_free(value);
	g_free(table);
	g_free(key);
	config_free(again);
	config_free(c);
	g_ptr_array_free(keys.keys, TRUE);
	return 0;
}
