/* Options, checked the same way by every tool: numeric values, usage,
 * --help and --version, and getopt's errors. */
#pragma once

#include <getopt.h>
#include <stdio.h>

/* The long option code of --version; --help is 'h' everywhere. */
#define OPT_VERSION 0x10000
#define OPT_HELP_VERSION \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, OPT_VERSION }

/* Returns s as a number in [min, max]; otherwise exits 64 with one line
 * naming what (an option or variable), the value and the range. */
long long opt_number(const char *what, const char *s, long long min,
    long long max);

/* Prints usage (the man page's SYNOPSIS, starting "usage:") and exits
 * with status: on stdout when status is 0 (--help asked for it), on
 * stderr otherwise (a usage error). */
void opt_usage(const char *usage, int status) __attribute__((noreturn));

/* --version: prints "TOOL VERSION" on stdout and exits 0. */
void opt_version(void) __attribute__((noreturn));

/* For tools whose first word is a subcommand: --help, -h or --version in
 * its place is answered here, another option there is a usage error (one
 * line, exit 64); a word returns. */
void opt_early(int argc, char *const argv[], const char *usage);

/* getopt_long returned '?' (with opterr = 0): exits 64 with one line that
 * names the option and what is wrong with it, and points at --help. */
void opt_bad(char *const argv[], const char *optstring,
    const struct option *longopts) __attribute__((noreturn));
