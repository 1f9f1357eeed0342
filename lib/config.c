#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Entry Entry;

/* One line of the file, kept as it was read so that it is written back
 * the same unless the writer owns it. */
typedef struct {
	char *text;		/* without its newline (a \r stays) */
	char *header;		/* the table this line opens, or NULL */
	Entry *entry;		/* the key this line sets, or NULL */
} Line;

struct Entry {
	char *table, *key;
	ConfigType type;
	GStrv values;
	gsize vstart, vend;	/* where the value is in the line's text */
};

struct Config {
	char *path;
	GPtrArray *lines;	/* Line, in the order of the file */
	gboolean final_newline;	/* the last line ends with one */
};

static void
entry_free(Entry *e)
{
	if (e == NULL)
		return;
	g_free(e->table);
	g_free(e->key);
	g_strfreev(e->values);
	g_free(e);
}

static void
line_free(gpointer p)
{
	Line *l = p;

	g_free(l->text);
	g_free(l->header);
	entry_free(l->entry);
	g_free(l);
}

static Config *
config_new(const char *path)
{
	Config *c = g_new0(Config, 1);

	c->path = g_strdup(path);
	c->lines = g_ptr_array_new_with_free_func(line_free);
	return c;
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

static gboolean
bare_key(const char *s)
{
	if (*s == '\0')
		return FALSE;
	for (; *s != '\0'; s++)
		if (!bare_char(*s))
			return FALSE;
	return TRUE;
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
parse_scalar(const char **pp, ConfigType *type)
{
	const char *p = *pp, *start = p;

	if (*p == '"' || *p == '\'') {
		*type = CONFIG_STRING;
		return parse_string(pp);
	}
	if (*p == '-' || *p == '+')
		p++;
	if (g_ascii_isdigit(*p)) {
		while (g_ascii_isdigit(*p) || *p == '_')
			p++;
		*type = CONFIG_INTEGER;
	} else if (strncmp(p, "true", 4) == 0) {
		p += 4;
		*type = CONFIG_BOOLEAN;
	} else if (strncmp(p, "false", 5) == 0) {
		p += 5;
		*type = CONFIG_BOOLEAN;
	} else
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

static Entry *
find(Config *c, const char *table, const char *key, guint *index)
{
	for (guint i = 0; i < c->lines->len; i++) {
		Line *l = c->lines->pdata[i];

		if (l->entry != NULL && strcmp(l->entry->table, table) == 0 &&
		    strcmp(l->entry->key, key) == 0) {
			if (index != NULL)
				*index = i;
			return l->entry;
		}
	}
	return NULL;
}

static gboolean
has_header(Config *c, const char *table, guint *index)
{
	for (guint i = 0; i < c->lines->len; i++) {
		Line *l = c->lines->pdata[i];

		if (l->header != NULL && strcmp(l->header, table) == 0) {
			if (index != NULL)
				*index = i;
			return TRUE;
		}
	}
	return FALSE;
}

/* The value at *pp (a list or a scalar) into e; NULL or why not. */
static const char *
parse_value(const char **pp, Entry *e)
{
	const char *p = *pp;
	GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);

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
			g_ptr_array_free(vals, TRUE);
			return "not a list of strings on one line";
		}
		p++;
		e->type = CONFIG_LIST;
	} else {
		char *v = parse_scalar(&p, &e->type);

		if (v == NULL) {
			g_ptr_array_free(vals, TRUE);
			return "not a value (a \"string\", a whole number, true or false, or a list)";
		}
		g_ptr_array_add(vals, v);
	}
	g_ptr_array_set_free_func(vals, NULL);
	g_ptr_array_add(vals, NULL);
	e->values = (GStrv)g_ptr_array_free(vals, FALSE);
	*pp = p;
	return NULL;
}

/* Parses one line (text, chomped) into l; NULL or why it is refused. */
static const char *
parse_line(Config *c, char **table, Line *l, char *text)
{
	const char *p = skip_ws(text), *k;
	const char *why;
	Entry *e;

	if (*p == '\0' || *p == '#')
		return NULL;
	if (*p == '[') {
		k = ++p;
		while (bare_char(*p))
			p++;
		if (p == k || *p != ']' || !at_end(p + 1))
			return "not a [table] header";
		l->header = g_strndup(k, p - k);
		if (has_header(c, l->header, NULL))
			return "a table that was already there";
		g_free(*table);
		*table = g_strdup(l->header);
		return NULL;
	}
	k = p;
	while (bare_char(*p))
		p++;
	if (p == k)
		return "not key = value";
	e = g_new0(Entry, 1);
	e->key = g_strndup(k, p - k);
	e->table = g_strdup(*table);
	l->entry = e;
	p = skip_ws(p);
	if (*p++ != '=')
		return "not key = value";
	p = skip_ws(p);
	if (find(c, e->table, e->key, NULL) != NULL)
		return "a key that was already there";
	e->vstart = p - text;
	if ((why = parse_value(&p, e)) != NULL)
		return why;
	e->vend = p - text;
	if (!at_end(p))
		return "something after the value (a number must be whole)";
	return NULL;
}

Config *
config_parse(const char *path, const char *text, gsize len, GError **error)
{
	g_autofree char *table = g_strdup("");
	const char *nul, *p, *end;
	Config *c = config_new(path);
	guint n = 0;

	if (text == NULL || len == 0)
		text = "", len = 0;
	nul = memchr(text, '\0', len);
	p = text;
	end = text + len;

	if (nul != NULL) {
		/* A C string would end there, and the writer lose the rest. */
		guint at = 1;

		for (const char *q = text; q < nul; q++)
			at += *q == '\n';
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "%s:%u: a NUL byte", path, at);
		config_free(c);
		return NULL;
	}
	c->final_newline = len == 0 || text[len - 1] == '\n';
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		gsize n_bytes = (nl != NULL ? nl : end) - p;
		Line *l = g_new0(Line, 1);
		g_autofree char *work = NULL;
		const char *why;

		l->text = g_strndup(p, n_bytes);
		work = g_strchomp(g_strdup(l->text));
		n++;
		why = parse_line(c, &table, l, work);
		g_ptr_array_add(c->lines, l);
		if (why != NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s:%u: %s", path, n, why);
			config_free(c);
			return NULL;
		}
		p += n_bytes + (nl != NULL);
	}
	return c;
}

Config *
config_load(const char *path, GError **error)
{
	g_autoptr(GByteArray) text = g_byte_array_new();
	guint8 buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return config_new(path);
		goto fail;
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			goto fail;
		}
		g_byte_array_append(text, buf, n);
	}
	close(fd);
	return config_parse(path, (const char *)text->data, text->len, error);
fail:
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
	    "%s: cannot read it: %s", path, g_strerror(errno));
	return NULL;
}

const char *const *
config_get(Config *c, const char *table, const char *key)
{
	Entry *e = find(c, table, key, NULL);

	return e != NULL ? (const char *const *)e->values : NULL;
}

ConfigType
config_type(Config *c, const char *table, const char *key)
{
	Entry *e = find(c, table, key, NULL);

	return e != NULL ? e->type : CONFIG_STRING;
}

gboolean
config_is_empty(Config *c)
{
	return c->lines->len == 0;
}

gboolean
config_foreach(Config *c, ConfigFunc fn, gpointer data)
{
	g_autofree char *table = g_strdup("");

	for (guint i = 0; i < c->lines->len; i++) {
		Line *l = c->lines->pdata[i];

		if (l->header != NULL &&
		    !fn(l->header, NULL, CONFIG_STRING, NULL, i + 1, data))
			return FALSE;
		if (l->entry != NULL && !fn(l->entry->table, l->entry->key,
		    l->entry->type, (const char *const *)l->entry->values,
		    i + 1, data))
			return FALSE;
	}
	return TRUE;
}

gboolean
config_check_keys(Config *c, const char *table, const char *const *known,
    GError **error)
{
	for (guint i = 0; i < c->lines->len; i++) {
		Entry *e = ((Line *)c->lines->pdata[i])->entry;
		g_autofree char *list = NULL;

		if (e == NULL || strcmp(e->table, table) != 0 ||
		    g_strv_contains(known, e->key))
			continue;
		list = g_strjoinv(", ", (GStrv)known);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "%s:%u: unknown key %s in [%s] (known: %s)", c->path,
		    i + 1, e->key, table, list);
		return FALSE;
	}
	return TRUE;
}

/* --- the writer ---------------------------------------------------------- */

static Line *
line_new(char *text)
{
	Line *l = g_new0(Line, 1);

	l->text = text;
	return l;
}

static void
insert_line(Config *c, guint at, Line *l)
{
	if (at >= c->lines->len) {
		/* The line before it gets a newline; so does this one. */
		at = c->lines->len;
		c->final_newline = TRUE;
	}
	g_ptr_array_insert(c->lines, at, l);
}

/* Where a new key of table goes: after its last key, else after its
 * header; -1 when the table is not there. Keys outside any table go
 * before the first header. */
static gint
insert_point(Config *c, const char *table)
{
	gint at = -1;
	guint h;

	for (guint i = 0; i < c->lines->len; i++) {
		Line *l = c->lines->pdata[i];

		if (l->entry != NULL && strcmp(l->entry->table, table) == 0)
			at = i + 1;
		if (*table == '\0' && at < 0 && l->header != NULL)
			return i;
	}
	if (at < 0 && *table == '\0')
		return c->lines->len;
	if (at < 0 && has_header(c, table, &h))
		at = h + 1;
	return at;
}

/* Sets key to literal, already TOML, whose value is values. */
static gboolean
set_literal(Config *c, const char *table, const char *key,
    const char *literal, ConfigType type, GStrv values, GError **error)
{
	Entry *e;
	guint i;
	gint at;

	if ((*table != '\0' && !bare_key(table)) || !bare_key(key)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "%s.%s: a table or key name is made of letters, digits, _ and -",
		    table, key);
		g_strfreev(values);
		return FALSE;
	}
	/* A file the writer touched ends with a newline. */
	c->final_newline = TRUE;
	if ((e = find(c, table, key, &i)) != NULL) {
		Line *l = c->lines->pdata[i];
		char *text = g_strdup_printf("%.*s%s%s", (int)e->vstart,
		    l->text, literal, l->text + e->vend);

		g_free(l->text);
		l->text = text;
		e->vend = e->vstart + strlen(literal);
		e->type = type;
		g_strfreev(e->values);
		e->values = values;
		return TRUE;
	}
	if ((at = insert_point(c, table)) < 0) {
		if (c->lines->len > 0) {
			Line *last = c->lines->pdata[c->lines->len - 1];

			if (*skip_ws(last->text) != '\0')
				insert_line(c, c->lines->len, line_new(g_strdup("")));
		}
		insert_line(c, c->lines->len,
		    line_new(g_strdup_printf("[%s]", table)));
		((Line *)c->lines->pdata[c->lines->len - 1])->header =
		    g_strdup(table);
		at = c->lines->len;
	}
	e = g_new0(Entry, 1);
	e->table = g_strdup(table);
	e->key = g_strdup(key);
	e->type = type;
	e->values = values;
	e->vstart = strlen(key) + 3;
	e->vend = e->vstart + strlen(literal);
	{
		Line *l = line_new(g_strdup_printf("%s = %s", key, literal));

		l->entry = e;
		insert_line(c, at, l);
	}
	return TRUE;
}

gboolean
config_set_string(Config *c, const char *table, const char *key,
    const char *value, GError **error)
{
	g_autoptr(GString) q = g_string_new("\"");
	GStrv values;

	for (const char *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '"': g_string_append(q, "\\\""); break;
		case '\\': g_string_append(q, "\\\\"); break;
		case '\n': g_string_append(q, "\\n"); break;
		case '\t': g_string_append(q, "\\t"); break;
		default:
			if ((unsigned char)*p < 0x20) {
				g_set_error(error, G_IO_ERROR,
				    G_IO_ERROR_INVALID_ARGUMENT,
				    "%s.%s: a control character in the value",
				    table, key);
				return FALSE;
			}
			g_string_append_c(q, *p);
		}
	}
	g_string_append_c(q, '"');
	values = g_new0(char *, 2);
	values[0] = g_strdup(value);
	return set_literal(c, table, key, q->str, CONFIG_STRING, values, error);
}

gboolean
config_set_integer(Config *c, const char *table, const char *key,
    gint64 value, GError **error)
{
	g_autofree char *s = g_strdup_printf("%" G_GINT64_FORMAT, value);
	GStrv values = g_new0(char *, 2);

	values[0] = g_strdup(s);
	return set_literal(c, table, key, s, CONFIG_INTEGER, values, error);
}

gboolean
config_unset(Config *c, const char *table, const char *key)
{
	guint i;

	if (find(c, table, key, &i) == NULL)
		return FALSE;
	g_ptr_array_remove_index(c->lines, i);
	c->final_newline = TRUE;
	return TRUE;
}

char *
config_render(Config *c, gsize *len)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < c->lines->len; i++) {
		Line *l = c->lines->pdata[i];

		if (i > 0)
			g_string_append_c(s, '\n');
		g_string_append(s, l->text);
	}
	if (c->lines->len > 0 && c->final_newline)
		g_string_append_c(s, '\n');
	if (len != NULL)
		*len = s->len;
	return g_string_free(s, FALSE);
}

static gboolean
save_failed(GError **error, const char *path, const char *what)
{
	int e = errno;

	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s: %s",
	    path, what, g_strerror(e));
	return FALSE;
}

gboolean
config_save(Config *c, GError **error)
{
	g_autofree char *text = NULL, *target = NULL, *dir = NULL;
	g_autofree char *base = NULL, *tmp = NULL;
	g_autoptr(GError) e = NULL;
	Config *again;
	struct stat st;
	gsize len, off = 0;
	int fd, dfd;

	text = config_render(c, &len);
	/* Never write what this reader would refuse next time. */
	if ((again = config_parse(c->path, text, len, &e)) == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "%s: not written, it would not read back (%s)", c->path,
		    e->message);
		return FALSE;
	}
	config_free(again);

	target = g_strdup(c->path);
	if (lstat(target, &st) == 0 && S_ISLNK(st.st_mode)) {
		char *real = realpath(c->path, NULL);

		if (real == NULL)
			return save_failed(error, c->path, "a symbolic link that does not resolve");
		g_free(target);
		target = g_strdup(real);
		free(real);
	}
	if (stat(target, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
			    "%s: not a regular file", target);
			return FALSE;
		}
		/* A read-only file is the user's way of keeping it, even
		 * from root, whom access() never refuses. */
		if ((st.st_mode & 0222) == 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
			    "%s: read-only (mode %04o), not replaced", target,
			    (unsigned)(st.st_mode & 07777));
			return FALSE;
		}
		if (access(target, W_OK) != 0)
			return save_failed(error, target, "cannot write it");
	} else if (errno != ENOENT)
		return save_failed(error, target, "cannot read it");

	dir = g_path_get_dirname(target);
	if (g_mkdir_with_parents(dir, 0700) != 0)
		return save_failed(error, dir, "cannot create the directory");
	base = g_path_get_basename(target);
	tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600)) < 0)
		return save_failed(error, dir, "cannot create a file there");
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, target) != 0)
		goto fail;
	/* The rename itself is durable once the directory is synced. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return TRUE;
fail:
	{
		int saved = errno;

		if (fd >= 0)
			close(fd);
		g_unlink(tmp);
		errno = saved;
	}
	return save_failed(error, tmp, "cannot write it");
}

void
config_free(Config *c)
{
	if (c == NULL)
		return;
	g_ptr_array_free(c->lines, TRUE);
	g_free(c->path);
	g_free(c);
}
