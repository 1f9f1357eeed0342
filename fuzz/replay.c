/* A main for a fuzz target when libFuzzer is not there: runs the target
 * once on each file named, as libFuzzer does with file arguments. A
 * crash is the target's own abort (or a sanitizer's report). */
#include <err.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "fuzz.h"

int
main(int argc, char *argv[])
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file ...\n", argv[0]);
		return EX_USAGE;
	}
	for (i = 1; i < argc; i++) {
		g_autoptr(GError) error = NULL;
		gchar *data;
		gsize len;

		if (!g_file_get_contents(argv[i], &data, &len, &error))
			errx(EX_NOINPUT, "%s", error->message);
		/* A copy of exactly len bytes: a read past the end shows. */
		uint8_t *copy = g_memdup2(data, len);
		g_free(data);
		LLVMFuzzerTestOneInput(copy, len);
		g_free(copy);
		printf("ran %s (%zu bytes)\n", argv[i], (size_t)len);
	}
	return 0;
}
