/*
 * pp-bench: the ends of a byte-stream benchmark, for bench/tunnel.
 *
 *	pp-bench pace [-r kbit] [-s size] -t seconds
 *		writes records of size bytes to stdout at kbit/s, evenly
 *		spaced, each stamped with the time it was written
 *	pp-bench delay
 *		reads those records from stdin and prints, at EOF, how late
 *		each arrived: "records N p50 MS p95 MS max MS"
 *	pp-bench count -t seconds
 *		reads stdin for that long from its first byte, prints
 *		"mbit R bytes N seconds S" and exits (closing the pipe)
 *
 * Both ends run on one machine (network namespaces share the clock), so
 * CLOCK_MONOTONIC stamps give one-way delays directly. A record's stamp is
 * taken just before write(): a stream held back by the pipe it feeds
 * counts as late, but a pacer that the scheduler woke late does not (on a
 * busy machine it would otherwise measure the machine, not the path).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "opt.h"

#define MAGIC		0x70706231u	/* "ppb1" */
#define HDR_SIZE	24		/* magic, size, seq, due */
#define MAX_RECORD	65536

static long long rate_kbit = 6000;	/* -r: pace rate */
static long long rec_size = 1500;	/* -s: record size */
static long long seconds;		/* -t: how long */

static const char usage_text[] =
    "usage: pp-bench pace [-r kbit] [-s size] -t seconds\n"
    "       pp-bench delay\n"
    "       pp-bench count -t seconds\n"
    "       pp-bench -h | --help | --version\n";

static void __dead2
usage(void)
{
	opt_usage(usage_text, EX_USAGE);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Whole reads: returns the bytes read, short only at EOF. */
static size_t
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(EX_IOERR, "stdin");
		}
		got += n;
	}
	return got;
}

static int
do_pace(void)
{
	uint8_t *rec;
	int64_t interval, start, due;
	uint64_t n;
	struct timespec ts;

	if ((rec = calloc(1, rec_size)) == NULL)
		err(EX_OSERR, NULL);
	/* Incompressible filler, as video is. */
	for (long long i = HDR_SIZE; i < rec_size; i++)
		rec[i] = (uint8_t)random();
	interval = rec_size * 8 * 1000000LL / rate_kbit;	/* ns */
	n = seconds * 1000000000LL / interval;
	start = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		due = start + (int64_t)i * interval;
		ts.tv_sec = due / 1000000000;
		ts.tv_nsec = due % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR)
			;
		put32(rec, MAGIC);
		put32(rec + 4, (uint32_t)rec_size);
		put64(rec + 8, i);
		put64(rec + 16, (uint64_t)now_ns());
		for (size_t off = 0; off < (size_t)rec_size; ) {
			ssize_t w = write(STDOUT_FILENO, rec + off, rec_size - off);

			if (w == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EPIPE)
					return 0;	/* the reader left */
				err(EX_IOERR, "stdout");
			}
			off += w;
		}
	}
	free(rec);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
do_delay(void)
{
	uint8_t buf[MAX_RECORD];
	double *d = NULL;
	size_t n = 0, cap = 0, got;
	uint64_t want_seq = 0;

	for (;;) {
		uint32_t size;

		if ((got = read_full(STDIN_FILENO, buf, HDR_SIZE)) == 0)
			break;
		if (got < HDR_SIZE)
			errx(EX_DATAERR, "record %" PRIu64 " is cut short", want_seq);
		size = get32(buf + 4);
		if (get32(buf) != MAGIC || size < HDR_SIZE || size > MAX_RECORD)
			errx(EX_DATAERR, "record %" PRIu64 " is no pp-bench record", want_seq);
		if (read_full(STDIN_FILENO, buf + HDR_SIZE, size - HDR_SIZE) <
		    size - HDR_SIZE)
			errx(EX_DATAERR, "record %" PRIu64 " is cut short", want_seq);
		if (get64(buf + 8) != want_seq)
			errx(EX_DATAERR, "record %" PRIu64 " came instead of %" PRIu64,
			    get64(buf + 8), want_seq);
		want_seq++;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((d = reallocarray(d, cap, sizeof(*d))) == NULL)
				err(EX_OSERR, NULL);
		}
		d[n++] = (now_ns() - (int64_t)get64(buf + 16)) / 1e6;
	}
	if (n == 0)
		errx(EX_DATAERR, "no record arrived");
	qsort(d, n, sizeof(*d), cmp_double);
	/* Nearest rank. */
	printf("records %zu p50 %.1f p95 %.1f max %.1f\n", n,
	    d[(n * 50 + 99) / 100 - 1], d[(n * 95 + 99) / 100 - 1], d[n - 1]);
	free(d);
	return 0;
}

static int
do_count(void)
{
	static uint8_t buf[1 << 17];
	int64_t start = 0, end = 0, elapsed;
	uint64_t total = 0;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			err(EX_IOERR, "stdin");
		end = now_ns();
		if (r == 0)
			break;
		if (total == 0)
			start = end;
		total += r;
		if (end - start >= seconds * 1000000000LL)
			break;
	}
	if (total == 0)
		errx(EX_DATAERR, "nothing arrived");
	elapsed = end - start;
	if (elapsed <= 0)
		elapsed = 1;
	printf("mbit %.1f bytes %" PRIu64 " seconds %.2f\n",
	    total * 8 / (elapsed / 1e9) / 1e6, total, elapsed / 1e9);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *cmd;
	int ch;

	opt_early(argc, argv, usage_text);
	if (argc < 2)
		usage();
	cmd = argv[1];
	argc--;
	argv++;
	opterr = 0;
	while ((ch = getopt(argc, argv, "r:s:t:h")) != -1) {
		switch (ch) {
		case 'r':
			rate_kbit = opt_number("-r", optarg, 1, 10000000);
			break;
		case 's':
			rec_size = opt_number("-s", optarg, HDR_SIZE, MAX_RECORD);
			break;
		case 't':
			seconds = opt_number("-t", optarg, 1, 3600);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		default:
			opt_bad(argv, "r:s:t:h", NULL);
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "pace") == 0) {
		if (seconds == 0)
			errx(EX_USAGE, "pace needs -t seconds");
		return do_pace();
	}
	if (strcmp(cmd, "delay") == 0)
		return do_delay();
	if (strcmp(cmd, "count") == 0) {
		if (seconds == 0)
			errx(EX_USAGE, "count needs -t seconds");
		return do_count();
	}
	usage();
}
