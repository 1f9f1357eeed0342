/* pp-repair: removes the PipeWire capture sinks that a killed pp-capture
 * left behind (they linger on purpose, so that the application it routed
 * keeps playing) and sends their streams back to the default sink. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "audio.h"
#include "log.h"

static int dry_run;	/* --dry-run: only list */
static int all;		/* --all: also those of running hosts */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: pp-repair [--dry-run] [--all] [--verbose]\n");
	exit(EX_USAGE);
}

static void
report(const char *name, pid_t pid, gpointer data)
{
	printf(dry_run ? "%s\n" : "removed %s\n", name);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run",	no_argument,	NULL, 'n' },
		{ "all",	no_argument,	NULL, 'a' },
		{ "verbose",	no_argument,	NULL, 'v' },
		{ NULL,		0,		NULL, 0 }
	};
	g_autoptr(GError) error = NULL;
	Audio *a;
	int ch, n;

	log_init();
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry_run = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'v':
			log_set_verbose(TRUE);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		usage();

	if ((a = audio_connect(&error)) == NULL)
		errx(EX_UNAVAILABLE, "%s: start pipewire in this session (with no PipeWire there is nothing to repair)", error->message);
	n = audio_repair(a, all, dry_run, report, NULL);
	log_debug("%d capture node(s) %s", n, dry_run ? "found" : "removed");
	audio_free(a);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}
