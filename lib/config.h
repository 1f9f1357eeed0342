/* $XDG_CONFIG_HOME/pixelpass/config.toml: a small, strict reader of the
 * part of TOML pixelpass writes: [table] headers, key = value with a
 * "string", a ['list', "of strings"], an integer or true/false, and
 * comments. Anything else is an error naming the file and line. */
#pragma once

#include <glib.h>

typedef struct Config Config;

/* The default path, newly allocated. */
char *config_path(void);

/* Reads path. A missing file is an empty configuration, not an error. */
Config *config_load(const char *path, GError **error);

/* The value of key in table as a list of strings (one for a scalar), or
 * NULL when absent. */
const char *const *config_get(Config *c, const char *table, const char *key);

/* FALSE with "FILE:LINE: unknown key" for a key of table not in known. */
gboolean config_check_keys(Config *c, const char *table,
    const char *const *known, GError **error);

void config_free(Config *c);
