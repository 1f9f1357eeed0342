/* Least privilege for the tools that parse strangers' bytes (pp-bridge,
 * pp-tunnel), once they have opened what they need: no_new_privs, and a
 * Landlock domain in which only the listed paths can be reached through
 * the filesystem. Enter while there is one thread: Landlock confines
 * the caller and what it starts later, not threads already running. Descriptors already open, sockets and the network are
 * not affected. Children started afterwards inherit the domain, so a tool
 * starts what must not be confined (a player) before it enters.
 *
 * Landlock needs no privilege and nests; a kernel without it (before 5.13,
 * or not in its lsm= list) leaves the filesystem open, and the caller is
 * told so to say it once. */
#pragma once

#include <stddef.h>

enum {
	SANDBOX_READ = 1 << 0,	/* read files; list a directory */
	SANDBOX_EXEC = 1 << 1,	/* run files (and read them, for ld.so) */
	SANDBOX_WRITE = 1 << 2,	/* write and truncate files (not create) */
};

typedef struct {
	const char *path;	/* a file or a directory (with all below it) */
	unsigned access;	/* SANDBOX_* */
} SandboxRule;

/* What a network tool reads of the system's after setting up: to resolve
 * a host name (the resolver's files, NSS and GIO modules) and to verify a
 * certificate against the system's CAs. Read only, and none of /etc that
 * only root may read. */
#define SANDBOX_NAMES (1u << 0)

/* Enters the domain: rules, and with flags what SANDBOX_NAMES says. A path
 * that does not exist is skipped. Returns the Landlock ABI version now in
 * force, 0 when the kernel has none, or -1 with errno set when the
 * restriction could not be made (EBUSY: more than one thread). */
int sandbox_enter(const SandboxRule *rules, size_t n, unsigned flags);

/* sandbox_enter for a tool's main: exits 71 (EX_OSERR) naming tool when
 * the kernel refuses, and says at debug level when it has no Landlock. */
void sandbox_enter_or_exit(const char *tool, const SandboxRule *rules,
    size_t n, unsigned flags);
