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
#include "opt.h"

static int dry_run;	/* --dry-run: only list */
static int all;		/* --all: also those of running hosts */

static const char usage_text[] =
    "usage: pp-repair [--dry-run] [--all] [--verbose]\n"
    "       pp-repair --help | --version\n";

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
		OPT_HELP_VERSION,
		{ NULL,		0,		NULL, 0 }
	};
	g_autoptr(GError) error = NULL;
	Audio *a;
	int ch, n;

	log_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
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
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, "h", longopts);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		opt_usage(usage_text, EX_USAGE);

	if ((a = audio_connect(&error)) == NULL)
		errx(EX_UNAVAILABLE, "%s: start pipewire in this session (with no PipeWire there is nothing to repair)", error->message);
	n = audio_repair(a, all, dry_run, report, NULL);
	log_debug("%d capture node(s) %s", n, dry_run ? "found" : "removed");
	audio_free(a);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}
