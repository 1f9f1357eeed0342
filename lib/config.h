/* $XDG_CONFIG_HOME/pixelpass/config.toml: a small, strict reader and
 * writer of the part of TOML pixelpass writes: [table] headers, key =
 * value with a "string", a ['list', "of strings"], an integer or
 * true/false, and comments. Anything else is an error naming the file and
 * line. This is the one implementation of the format: pp-tunnel reads it
 * here, and the frontend through pp-config(1).
 *
 * The writer owns only the lines of the keys it sets or removes (and the
 * lines it adds); every other line, comments and unknown tables included,
 * is written back byte for byte. */
#pragma once

#include <glib.h>

typedef struct Config Config;

typedef enum {
	CONFIG_STRING,
	CONFIG_INTEGER,
	CONFIG_BOOLEAN,
	CONFIG_LIST,
} ConfigType;

/* The default path, newly allocated. */
char *config_path(void);

/* Reads path. A missing file is an empty configuration, not an error. */
Config *config_load(const char *path, GError **error);

/* Parses len bytes of text as the file path (named in the errors, and
 * where config_save writes). */
Config *config_parse(const char *path, const char *text, gsize len,
    GError **error);

/* The value of key in table as a list of strings (one for a scalar), or
 * NULL when absent. An integer is as written (a sign, underscores). */
const char *const *config_get(Config *c, const char *table, const char *key);

/* The type of key in table; CONFIG_STRING when absent. */
ConfigType config_type(Config *c, const char *table, const char *key);

/* TRUE when there is not a line, not even a comment. */
gboolean config_is_empty(Config *c);

/* FALSE with "FILE:LINE: unknown key" for a key of table not in known. */
gboolean config_check_keys(Config *c, const char *table,
    const char *const *known, GError **error);

/* Calls fn for every [table] header (key NULL, values NULL) and every key,
 * in the order of the file, until it returns FALSE; returns FALSE then. */
typedef gboolean (*ConfigFunc)(const char *table, const char *key,
    ConfigType type, const char *const *values, guint line, gpointer data);
gboolean config_foreach(Config *c, ConfigFunc fn, gpointer data);

/* Sets key of table to a "string" or an integer: the value of an existing
 * key is replaced on its line (its indentation and comment kept); a new
 * key goes after the last key of its table, a new table at the end.
 * FALSE (and no change) for a table or key that is not a bare key, or a
 * string with a control character other than tab and newline. */
gboolean config_set_string(Config *c, const char *table, const char *key,
    const char *value, GError **error);
gboolean config_set_integer(Config *c, const char *table, const char *key,
    gint64 value, GError **error);

/* Removes the line of key in table; TRUE if there was one. */
gboolean config_unset(Config *c, const char *table, const char *key);

/* The file as config_save would write it. */
char *config_render(Config *c, gsize *len);

/* Writes the configuration to its path, atomically: a new file (mode
 * 0600) in the same directory, renamed over the old one; the directory
 * is created (mode 0700) when missing. A symbolic link is followed: the
 * file it names is replaced and the link kept. A file this user may not
 * write is refused. On failure, "FILE: reason" and the file unchanged. */
gboolean config_save(Config *c, GError **error);

void config_free(Config *c);
