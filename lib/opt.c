#include "opt.h"

#include <err.h>
#include <stdlib.h>
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
