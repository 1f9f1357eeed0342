#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

typedef struct {
	char *table, *key;
	guint line;
	GStrv values;
} Entry;

struct Config {
	char *path;
	GPtrArray *entries;
};

static void
entry_free(gpointer p)
{
	Entry *e = p;

	g_free(e->table);
	g_free(e->key);
	g_strfreev(e->values);
	g_free(e);
}

char *
config_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "pixelpass",
	    "config.toml", NULL);
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static gboolean
bare_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* A "basic" or 'literal' string at *p; advances past it. */
static char *
parse_string(const char **pp)
{
	const char *p = *pp;
	char q = *p++;
	GString *s = g_string_new(NULL);

	while (*p != q) {
		if (*p == '\0' || (unsigned char)*p < 0x20) {
			g_string_free(s, TRUE);
			return NULL;
		}
		if (q == '"' && *p == '\\') {
			p++;
			switch (*p) {
			case '"': case '\\': g_string_append_c(s, *p); break;
			case 'n': g_string_append_c(s, '\n'); break;
			case 't': g_string_append_c(s, '\t'); break;
			default:
				g_string_free(s, TRUE);
				return NULL;
			}
			p++;
			continue;
		}
		g_string_append_c(s, *p++);
	}
	*pp = p + 1;
	return g_string_free(s, FALSE);
}

/* A scalar: string, integer or boolean, as text. */
static char *
parse_scalar(const char **pp)
{
	const char *p = *pp, *start = p;

	if (*p == '"' || *p == '\'')
		return parse_string(pp);
	if (*p == '-' || *p == '+')
		p++;
	if (g_ascii_isdigit(*p)) {
		while (g_ascii_isdigit(*p) || *p == '_')
			p++;
	} else if (strncmp(p, "true", 4) == 0)
		p += 4;
	else if (strncmp(p, "false", 5) == 0)
		p += 5;
	else
		return NULL;
	if (bare_char(*p))
		return NULL;
	*pp = p;
	return g_strndup(start, p - start);
}

static gboolean
at_end(const char *p)
{
	p = skip_ws(p);
	return *p == '\0' || *p == '#';
}

Config *
config_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) e = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree char *table = g_strdup("");
	Config *c = g_new0(Config, 1);

	c->path = g_strdup(path);
	c->entries = g_ptr_array_new_with_free_func(entry_free);
	if (!g_file_get_contents(path, &text, NULL, &e)) {
		if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return c;
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", e->message);
		config_free(c);
		return NULL;
	}
	lines = g_strsplit(text, "\n", -1);
	for (guint n = 0; lines[n] != NULL; n++) {
		const char *p = skip_ws(lines[n]), *k;
		const char *why = NULL;
		g_autofree char *key = NULL;
		GPtrArray *vals;

		g_strchomp(lines[n]);
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '[') {
			k = ++p;
			while (bare_char(*p))
				p++;
			if (p == k || *p != ']' || !at_end(p + 1)) {
				why = "not a [table] header";
				goto bad;
			}
			g_free(table);
			table = g_strndup(k, p - k);
			for (guint i = 0; i < c->entries->len; i++) {
				Entry *x = c->entries->pdata[i];
				if (strcmp(x->table, table) == 0) {
					why = "a table that was already there";
					goto bad;
				}
			}
			continue;
		}
		k = p;
		while (bare_char(*p))
			p++;
		if (p == k) {
			why = "not key = value";
			goto bad;
		}
		key = g_strndup(k, p - k);
		p = skip_ws(p);
		if (*p++ != '=') {
			why = "not key = value";
			goto bad;
		}
		p = skip_ws(p);
		if (config_get(c, table, key) != NULL) {
			why = "a key that was already there";
			goto bad;
		}
		vals = g_ptr_array_new();
		if (*p == '[') {
			p = skip_ws(p + 1);
			while (*p != ']') {
				char *v = (*p == '"' || *p == '\'') ? parse_string(&p) : NULL;

				if (v == NULL)
					break;
				g_ptr_array_add(vals, v);
				p = skip_ws(p);
				if (*p == ',')
					p = skip_ws(p + 1);
				else if (*p != ']')
					break;
			}
			if (*p != ']') {
				why = "not a list of strings on one line";
				g_ptr_array_set_free_func(vals, g_free);
				g_ptr_array_free(vals, TRUE);
				goto bad;
			}
			p++;
		} else {
			char *v = parse_scalar(&p);

			if (v == NULL) {
				why = "not a value (a \"string\", a number, true or false, or a list)";
				g_ptr_array_free(vals, TRUE);
				goto bad;
			}
			g_ptr_array_add(vals, v);
		}
		if (!at_end(p)) {
			why = "something after the value";
			g_ptr_array_set_free_func(vals, g_free);
			g_ptr_array_free(vals, TRUE);
			goto bad;
		}
		g_ptr_array_add(vals, NULL);
		{
			Entry *x = g_new0(Entry, 1);

			x->table = g_strdup(table);
			x->key = g_steal_pointer(&key);
			x->line = n + 1;
			x->values = (GStrv)g_ptr_array_free(vals, FALSE);
			g_ptr_array_add(c->entries, x);
		}
		continue;
bad:
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "%s:%u: %s", path, n + 1, why);
		config_free(c);
		return NULL;
	}
	return c;
}

const char *const *
config_get(Config *c, const char *table, const char *key)
{
	for (guint i = 0; i < c->entries->len; i++) {
		Entry *e = c->entries->pdata[i];

		if (strcmp(e->table, table) == 0 && strcmp(e->key, key) == 0)
			return (const char *const *)e->values;
	}
	return NULL;
}

gboolean
config_check_keys(Config *c, const char *table, const char *const *known,
    GError **error)
{
	for (guint i = 0; i < c->entries->len; i++) {
		Entry *e = c->entries->pdata[i];

		g_autofree char *list = NULL;

		if (strcmp(e->table, table) != 0 ||
		    g_strv_contains(known, e->key))
			continue;
		list = g_strjoinv(", ", (GStrv)known);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "%s:%u: unknown key %s in [%s] (known: %s)", c->path,
		    e->line, e->key, table, list);
		return FALSE;
	}
	return TRUE;
}

void
config_free(Config *c)
{
	if (c == NULL)
		return;
	g_ptr_array_free(c->entries, TRUE);
	g_free(c->path);
	g_free(c);
}
