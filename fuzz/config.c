/* Fuzz target: the config reader (lib/config.c). The file is the user's
 * own, but it is edited by hand and by other programs, and a bad one must
 * get a line number, never a crash. The input is written to a private
 * file and loaded; what loads is looked up as pixelpass looks it up. */
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "status", "upstream_mbps",
	    "measured_at", "rendezvous", "stun", "turn", NULL };
	static const char *const tables[] = { "", "bandwidth", "network" };
	GError *error = NULL;
	Config *c;

	if (dir == NULL) {
		dir = g_dir_make_tmp("pp-fuzz-config.XXXXXX", NULL);
		if (dir == NULL)
			abort();
		path = g_build_filename(dir, "config.toml", NULL);
		atexit(cleanup);
	}
	if (!g_file_set_contents(path, (const char *)data, size, NULL))
		abort();
	c = config_load(path, &error);
	if (c == NULL) {
		/* Every refusal names the file and the line. */
		if (error == NULL || !g_str_has_prefix(error->message, path))
			abort();
		g_error_free(error);
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
	config_free(c);
	return 0;
}
