/* pp-config: reads, checks and edits config.toml for the frontend, through
 * lib/config (the reader pp-tunnel uses), so that the file has one
 * implementation and one fuzz target. The schema of the keys pixelpass
 * knows is here: `check` and `dump` hold the file to it, and `set` types
 * and checks a value by it. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "opt.h"

static const char *file;	/* --file: instead of the default path */
static char *default_path;	/* the default path, when no --file */
static Config *conf;		/* the file read */
static GPtrArray *names;	/* what split_name allocated */

typedef enum {
	K_STATUS,		/* measured|skipped|failed|unmeasured */
	K_MBPS,			/* an integer, 0 to 999999 */
	K_TIME,			/* RFC 3339 */
	K_URL,			/* http:// or https:// */
	K_SERVERS,		/* a string, or a list of strings */
} Kind;

static const struct key {
	const char *table, *key;
	Kind kind;
} schema[] = {
	{ "bandwidth", "status", K_STATUS },
	{ "bandwidth", "upstream_mbps", K_MBPS },
	{ "bandwidth", "measured_at", K_TIME },
	{ "bandwidth", "test_url", K_URL },
	{ "network", "rendezvous", K_SERVERS },
	{ "network", "stun", K_SERVERS },
	{ "network", "turn", K_SERVERS },
	{ "network", "turn_ca", K_SERVERS },
};

#define NEW_FILE "# pixelpass settings: see pixelpass(1), FILES, and pp-config(1).\n"

static const char usage_text[] =
    "usage: pp-config [--file file] get table.key\n"
    "       pp-config [--file file] set table.key value [table.key value ...]\n"
    "       pp-config [--file file] unset table.key [table.key ...]\n"
    "       pp-config [--file file] check | dump\n"
    "       pp-config --help | --version\n";

static const struct key *
schema_key(const char *table, const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(schema); i++)
		if (strcmp(schema[i].table, table) == 0 &&
		    strcmp(schema[i].key, key) == 0)
			return &schema[i];
	return NULL;
}

/* Why table and key are not in the schema (newly allocated), or NULL. */
static char *
why_unknown(const char *table, const char *key)
{
	if (*table == '\0')
		return g_strdup_printf("\"%s\" is outside any [table]", key);
	if (strcmp(table, "bandwidth") == 0 && schema_key(table, key) == NULL)
		return g_strdup_printf("unknown key \"%s\" in [bandwidth] (pixelpass knows status, upstream_mbps, measured_at and test_url)", key);
	if (strcmp(table, "network") == 0 && schema_key(table, key) == NULL)
		return g_strdup_printf("unknown key \"%s\" in [network] (pixelpass knows rendezvous, stun, turn and turn_ca)", key);
	if (schema_key(table, key) == NULL)
		return g_strdup_printf("unknown table [%s] (pixelpass knows [bandwidth] and [network])", table);
	return NULL;
}

/* An integer as written (a sign, underscores), without them. */
static char *
integer_digits(const char *v)
{
	GString *s = g_string_new(NULL);

	if (*v == '+')
		v++;
	for (; *v != '\0'; v++)
		if (*v != '_')
			g_string_append_c(s, *v);
	return g_string_free(s, FALSE);
}

/* Why a value of k is wrong (newly allocated), or NULL. */
static char *
why_bad(const struct key *k, ConfigType type, const char *const *values)
{
	const char *v = values[0];

	if (k->kind == K_MBPS) {
		g_autofree char *d = NULL;

		if (type != CONFIG_INTEGER)
			return g_strdup_printf("%s: not a whole number", k->key);
		d = integer_digits(v);
		if (!g_regex_match_simple("^[0-9]{1,6}$", d, 0, 0))
			return g_strdup_printf("upstream_mbps = %s: expected a whole number of Mbit/s, 0 to 999999", d);
		return NULL;
	}
	if (k->kind == K_SERVERS) {
		if (type != CONFIG_STRING && type != CONFIG_LIST)
			return g_strdup_printf("%s: not a \"string\" or a list of strings", k->key);
	} else if (type != CONFIG_STRING)
		return g_strdup_printf("%s: not a \"string\"", k->key);
	/* dump and get print one value a line. */
	for (const char *const *p = values; *p != NULL; p++)
		if (strpbrk(*p, "\t\n") != NULL)
			return g_strdup_printf("%s: a tab or a line break in the value", k->key);
	switch (k->kind) {
	case K_STATUS:
		if (strcmp(v, "measured") != 0 && strcmp(v, "skipped") != 0 &&
		    strcmp(v, "failed") != 0 && strcmp(v, "unmeasured") != 0)
			return g_strdup_printf("status \"%s\": expected \"measured\", \"skipped\", \"failed\" or \"unmeasured\"", v);
		break;
	case K_TIME:
		if (!g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$", v, 0, 0))
			return g_strdup_printf("measured_at \"%s\": expected an RFC 3339 time such as \"2026-01-31T12:00:00Z\"", v);
		break;
	case K_URL:
		if (!g_str_has_prefix(v, "http://") && !g_str_has_prefix(v, "https://"))
			return g_strdup_printf("test_url \"%s\": expected an http:// or https:// URL", v);
		break;
	default:
		break;
	}
	return NULL;
}

/* Exits through here, and what was allocated is freed first (every exit
 * is checked for leaks in the sanitizer build). */
static void
free_all(void)
{
	config_free(conf);
	g_free(default_path);
	g_ptr_array_free(names, TRUE);
}

/* Says message, which it frees, and exits with status. */
static G_NORETURN void
fail(int status, char *message)
{
	warnx("%s", message);
	g_free(message);
	exit(status);
}

static G_NORETURN void
fail_error(int status, GError *error, const char *suffix)
{
	char *m = g_strconcat(error->message, suffix, NULL);

	g_error_free(error);
	fail(status, m);
}

#define DAMAGED "; fix or delete that line (the file was left as it was)"

/* Reads the file into conf. */
static Config *
load(void)
{
	GError *error = NULL;

	if ((conf = config_load(file, &error)) != NULL)
		return conf;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
		fail_error(EX_DATAERR, error, DAMAGED);
	fail_error(EX_NOINPUT, error, "");
}

/* Splits TABLE.KEY; a usage error otherwise. The halves are freed at
 * exit. */
static void
split_name(const char *name, const char **table, const char **key)
{
	const char *dot = strchr(name, '.');

	if (dot == NULL || dot == name || dot[1] == '\0' ||
	    strchr(dot + 1, '.') != NULL)
		fail(EX_USAGE, g_strdup_printf("%s: expected table.key, such as bandwidth.status", name));
	g_ptr_array_add(names, g_strndup(name, dot - name));
	*table = names->pdata[names->len - 1];
	*key = dot + 1;
}

static void
print_values(const char *prefix, ConfigType type, const char *const *values)
{
	for (; *values != NULL; values++) {
		g_autofree char *v = NULL;

		if (type == CONFIG_INTEGER) {
			/* Decimal, as the shell reads it: 010 is not 8. */
			g_autofree char *d = integer_digits(*values);
			char *end;
			gint64 n;

			errno = 0;
			n = g_ascii_strtoll(d, &end, 10);
			v = (errno == 0 && *end == '\0') ?
			    g_strdup_printf("%" G_GINT64_FORMAT, n) : g_strdup(d);
		} else
			v = g_strdup(*values);
		printf("%s%s\n", prefix, v);
	}
}

typedef struct {
	char *why;		/* the first line refused, as said */
	const char *status;	/* [bandwidth] status, and its line */
	guint status_line;
	gboolean have_mbps;
} Check;

static gboolean
check_item(const char *table, const char *key, ConfigType type,
    const char *const *values, guint line, gpointer data)
{
	Check *ck = data;
	g_autofree char *why = NULL;
	const struct key *k;

	if (key == NULL) {
		if (strcmp(table, "bandwidth") != 0 && strcmp(table, "network") != 0)
			why = g_strdup_printf("unknown table [%s] (pixelpass knows [bandwidth] and [network])", table);
	} else if ((why = why_unknown(table, key)) == NULL) {
		k = schema_key(table, key);
		why = why_bad(k, type, values);
		if (why == NULL && k->kind == K_STATUS) {
			ck->status = values[0];
			ck->status_line = line;
		}
		if (why == NULL && k->kind == K_MBPS)
			ck->have_mbps = TRUE;
	}
	if (why != NULL) {
		ck->why = g_strdup_printf("%s:%u: %s" DAMAGED, file, line, why);
		return FALSE;
	}
	return TRUE;
}

/* Holds c to the schema; exits 65 with the first line refused. */
static void
check(Config *c)
{
	Check ck = { 0 };

	if (!config_foreach(c, check_item, &ck))
		fail(EX_DATAERR, ck.why);
	if (ck.status != NULL && strcmp(ck.status, "measured") == 0 &&
	    !ck.have_mbps)
		fail(EX_DATAERR, g_strdup_printf("%s: [bandwidth] status is \"measured\" but upstream_mbps is missing; add it, or run pixelpass --reconfigure", file));
}

static gboolean
dump_item(const char *table, const char *key, ConfigType type,
    const char *const *values, guint line, gpointer data)
{
	g_autofree char *prefix = NULL;

	if (key == NULL)
		return TRUE;
	prefix = g_strdup_printf("%s.%s=", table, key);
	print_values(prefix, type, values);
	return TRUE;
}

static int
cmd_get(int argc, char *argv[])
{
	const char *table, *key;
	const char *const *v;

	if (argc != 1)
		opt_usage(usage_text, EX_USAGE);
	split_name(argv[0], &table, &key);
	load();
	if ((v = config_get(conf, table, key)) == NULL)
		return 1;
	print_values("", config_type(conf, table, key), v);
	return 0;
}

static int
cmd_check(int argc, gboolean dump)
{
	if (argc != 0)
		opt_usage(usage_text, EX_USAGE);
	load();
	check(conf);
	if (dump)
		config_foreach(conf, dump_item, NULL);
	return 0;
}

/* set and unset: every change, then one write. */
static int
cmd_edit(int argc, char *argv[], gboolean set)
{
	GError *error = NULL;
	gboolean changed = set;
	int step = set ? 2 : 1;

	if (argc == 0 || argc % step != 0)
		opt_usage(usage_text, EX_USAGE);
	/* Every argument is checked before the file is read. */
	for (int i = 0; i < argc; i += step) {
		const char *table, *key, *v = set ? argv[i + 1] : "";
		const struct key *k;
		char *why;

		split_name(argv[i], &table, &key);
		if ((why = why_unknown(table, key)) != NULL) {
			char *m = g_strdup_printf("%s: %s", argv[i], why);

			g_free(why);
			fail(EX_USAGE, m);
		}
		k = schema_key(table, key);
		if (*v != '\0') {
			const char *one[] = { v, NULL };
			gboolean digits = v[strspn(v, "0123456789")] == '\0';

			why = why_bad(k, k->kind == K_MBPS && digits ?
			    CONFIG_INTEGER : CONFIG_STRING, one);
			if (why != NULL)
				fail(EX_USAGE, why);
		}
	}
	load();
	if (set && config_is_empty(conf) && access(file, F_OK) != 0) {
		config_free(conf);
		conf = config_parse(file, NEW_FILE, strlen(NEW_FILE), NULL);
	}
	for (int i = 0; i < argc; i += step) {
		const char *table, *key, *v = set ? argv[i + 1] : "";
		gboolean ok = TRUE;

		split_name(argv[i], &table, &key);
		if (*v == '\0')
			changed |= config_unset(conf, table, key);
		else if (schema_key(table, key)->kind == K_MBPS)
			ok = config_set_integer(conf, table, key,
			    g_ascii_strtoll(v, NULL, 10), &error);
		else
			ok = config_set_string(conf, table, key, v, &error);
		if (!ok)
			fail_error(EX_USAGE, error, "");
	}
	if (changed && !config_save(conf, &error))
		fail_error(EX_CANTCREAT, error, " (the file was left as it was)");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int ch;

	names = g_ptr_array_new_with_free_func(g_free);
	atexit(free_all);
	/* "+": a value such as -1 after the command is not an option. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, "+h", longopts);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc == 0)
		opt_usage(usage_text, EX_USAGE);
	if (file != NULL && *file == '\0')
		errx(EX_USAGE, "--file: an empty name");
	if (file == NULL)
		file = default_path = config_path();
	cmd = argv[0];
	/* A key never starts with '-': "get --help" asks for the usage. */
	opt_early(argc, argv, usage_text);
	argc--;
	argv++;
	if (strcmp(cmd, "get") == 0)
		return cmd_get(argc, argv);
	if (strcmp(cmd, "set") == 0)
		return cmd_edit(argc, argv, TRUE);
	if (strcmp(cmd, "unset") == 0)
		return cmd_edit(argc, argv, FALSE);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, FALSE);
	if (strcmp(cmd, "dump") == 0)
		return cmd_check(argc, TRUE);
	errx(EX_USAGE, "%s: not a command (get, set, unset, check or dump; pp-config --help)", cmd);
}
