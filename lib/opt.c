#include "opt.h"

#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

long long
opt_number(const char *what, const char *s, long long min, long long max)
{
	const char *errstr;
	long long n = strtonum(s, min, max, &errstr);

	if (errstr != NULL)
		errx(EX_USAGE, "%s %s: %s (expected %lld to %lld)", what, s,
		    errstr, min, max);
	return n;
}

void
opt_usage(const char *usage, int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fputs(usage, f);
	if (status == 0 && fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	exit(status);
}

void
opt_version(void)
{
	printf("%s %s\n", getprogname(), PACKAGE_VERSION);
	if (fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	exit(0);
}

void
opt_early(int argc, char *const argv[], const char *usage)
{
	if (argc < 2)
		return;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		opt_usage(usage, 0);
	if (strcmp(argv[1], "--version") == 0)
		opt_version();
	if (argv[1][0] == '-')
		errx(EX_USAGE, "%s: unknown option (%s --help lists them)",
		    argv[1], getprogname());
}

/* Whether option code c takes a value, by optstring or longopts. */
static int
takes_value(int c, const char *optstring, const struct option *longopts)
{
	const char *p;

	for (; longopts != NULL && longopts->name != NULL; longopts++)
		if (longopts->flag == NULL && longopts->val == c)
			return longopts->has_arg == required_argument;
	if (c > 0 && c < 256 && c != ':' && c != '+' &&
	    (p = strchr(optstring, c)) != NULL)
		return p[1] == ':';
	return 0;
}

void
opt_bad(char *const argv[], const char *optstring,
    const struct option *longopts)
{
	const char *prog = getprogname();
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	/* getopt leaves optopt 0 for a long option it does not know (or
	 * an abbreviation that fits several); else optopt is the option's
	 * code, and whether it takes a value tells the two cases apart. */
	if (optopt == 0)
		errx(EX_USAGE, "%s: unknown option (%s --help lists them)", arg, prog);
	if (takes_value(optopt, optstring, longopts))
		errx(EX_USAGE, "%s needs a value (%s --help)", arg, prog);
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL)
		errx(EX_USAGE, "%s: this option takes no value (%s --help)", arg, prog);
	if (optopt > 0 && optopt < 256)
		errx(EX_USAGE, "-%c: unknown option (%s --help lists them)", optopt, prog);
	errx(EX_USAGE, "%s: unknown option (%s --help lists them)", arg, prog);
}
