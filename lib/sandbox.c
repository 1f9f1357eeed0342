#include "sandbox.h"

#include <err.h>
#include <errno.h>
#include <glib.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"

/* Rights of later ABIs than the headers this may be built with know. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* Every filesystem right the kernel's ABI knows is handled, so that each
 * is denied unless a rule grants it (an unhandled right stays open). */
static __u64
handled_for(int abi)
{
	__u64 fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

static __u64
rights_for(unsigned access, bool dir)
{
	__u64 r = 0;

	if (access & (SANDBOX_READ | SANDBOX_EXEC))
		r |= LANDLOCK_ACCESS_FS_READ_FILE |
		    (dir ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
	if (access & SANDBOX_EXEC)
		r |= LANDLOCK_ACCESS_FS_EXECUTE;
	if (access & SANDBOX_WRITE)
		r |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	return r;
}

static const SandboxRule names[] = {
	{ "/etc/hosts", SANDBOX_READ },
	{ "/etc/resolv.conf", SANDBOX_READ },
	{ "/etc/nsswitch.conf", SANDBOX_READ },
	{ "/etc/host.conf", SANDBOX_READ },
	{ "/etc/gai.conf", SANDBOX_READ },
	{ "/etc/services", SANDBOX_READ },
	{ "/etc/protocols", SANDBOX_READ },
	{ "/etc/ld.so.cache", SANDBOX_READ },
	{ "/etc/localtime", SANDBOX_READ },
	{ "/etc/gnutls", SANDBOX_READ },
	{ "/etc/ssl/certs", SANDBOX_READ },
	{ "/etc/ssl/openssl.cnf", SANDBOX_READ },
	{ "/etc/ca-certificates", SANDBOX_READ },
	{ "/usr/share/ca-certificates", SANDBOX_READ },
	{ "/usr/lib", SANDBOX_READ },	/* NSS and GIO modules, loaded late */
	/* Where the network managers write resolv.conf and link it from
	 * /etc: a rule follows a file, not its name, and these directories
	 * keep a renewed file readable. */
	{ "/run/systemd/resolve", SANDBOX_READ },
	{ "/run/NetworkManager", SANDBOX_READ },
	{ "/run/resolvconf", SANDBOX_READ },
};

static int
add_rule(int ruleset, __u64 handled, const SandboxRule *rule)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd = open(rule->path, O_PATH | O_CLOEXEC), r, saved;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	pb.parent_fd = fd;
	pb.allowed_access = rights_for(rule->access, S_ISDIR(st.st_mode)) &
	    handled;
	r = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* How many threads we have, from /proc/self/status; 0 when unknown. */
static unsigned
threads(void)
{
	g_autofree char *status = NULL;
	const char *t;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL) ||
	    (t = strstr(status, "\nThreads:")) == NULL)
		return 0;
	return strtoul(t + 9, NULL, 10);
}

int
sandbox_enter(const SandboxRule *rules, size_t n, unsigned flags)
{
	struct landlock_ruleset_attr attr = { 0 };
	int abi, ruleset, saved;

	/* Landlock confines the calling thread and those it makes later, not
	 * those already there: a second thread would stay free (and keep a
	 * sanitizer's leak check from stopping it). The callers enter before
	 * GLib's worker, GStreamer's or mosquitto's threads exist. */
	if (threads() > 1) {
		errno = EBUSY;
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
	attr.handled_access_fs = handled_for(abi);
	ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add_rule(ruleset, attr.handled_access_fs, &rules[i]) != 0)
			goto fail;
	for (size_t i = 0; (flags & SANDBOX_NAMES) && i < G_N_ELEMENTS(names); i++)
		if (add_rule(ruleset, attr.handled_access_fs, &names[i]) != 0)
			goto fail;
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer reads /proc/PID at exit: a sanitizer build (never one
	 * that is installed) keeps it. */
	if (add_rule(ruleset, attr.handled_access_fs,
	    &(SandboxRule){ "/proc/self", SANDBOX_READ }) != 0)
		goto fail;
#endif
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		goto fail;
	close(ruleset);
	return abi;
fail:
	saved = errno;
	close(ruleset);
	errno = saved;
	return -1;
}

void
sandbox_enter_or_exit(const char *tool, const SandboxRule *rules, size_t n,
    unsigned flags)
{
	switch (sandbox_enter(rules, n, flags)) {
	case -1:
		err(EX_OSERR, "cannot confine %s (Landlock)", tool);
	case 0:
		log_debug("this kernel has no Landlock: the filesystem stays open to %s",
		    tool);
	}
}
