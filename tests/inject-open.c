/* inject-open PID PATH: makes the process PID call open(PATH, O_RDONLY)
 * itself, as an exploit in its parser would, and prints "FD 0" or
 * "-1 ERRNO" of that call; the file is closed again in the process, and
 * the process goes on as before.
 *
 * gdb's "call open(...)" did this until a CPU with AMX: there gdb 13
 * cannot write the registers' extended state back ("Couldn't write
 * extended state status"), and the process dies of it. This touches the
 * general registers only, and runs the syscall instruction the process
 * is stopped after (it waits in poll or a sleep); only when there is none
 * is one written at the instruction pointer, and put back. x86-64 only;
 * exit 77 elsewhere, which the test reports as a skip. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#ifdef __x86_64__

static void
die(const char *what)
{
	fprintf(stderr, "inject-open: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Waits for the tracee's next stop; the process ending is an error. */
static void
wait_stop(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, __WALL) < 0)
		die("waitpid");
	if (!WIFSTOPPED(status)) {
		fprintf(stderr, "inject-open: process %d ended\n", (int)pid);
		exit(1);
	}
}

/* Runs syscall NR(A, B, C) in the stopped tracee at the syscall
 * instruction at AT, and returns what it returned (a negative errno on
 * failure). */
static long
run_syscall(pid_t pid, const struct user_regs_struct *saved, uintptr_t at,
    long nr, long a, long b, long c)
{
	struct user_regs_struct regs = *saved;

	regs.rip = at;
	regs.rax = nr;
	regs.rdi = a;
	regs.rsi = b;
	regs.rdx = c;
	/* Not in a system call: the kernel then leaves rax and rip alone
	 * instead of restarting the one the process was stopped in. */
	regs.orig_rax = -1;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0)
		die("PTRACE_SETREGS");
	if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0)
		die("PTRACE_SINGLESTEP");
	wait_stop(pid);
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
		die("PTRACE_GETREGS");
	return (long)regs.rax;
}

/* Copies LEN bytes to the tracee at ADDR, word by word, keeping what was
 * there in OLD (LEN rounded up to words). */
static void
poke(pid_t pid, uintptr_t addr, const void *data, size_t len, long *old)
{
	for (size_t i = 0; i < len; i += sizeof(long)) {
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, pid, addr + i, NULL);
		if (errno != 0)
			die("PTRACE_PEEKDATA");
		old[i / sizeof(long)] = word;
		memcpy(&word, (const char *)data + i,
		    len - i < sizeof(long) ? len - i : sizeof(long));
		if (ptrace(PTRACE_POKEDATA, pid, addr + i, word) < 0)
			die("PTRACE_POKEDATA");
	}
}

static void
unpoke(pid_t pid, uintptr_t addr, size_t len, const long *old)
{
	for (size_t i = 0; i < len; i += sizeof(long))
		if (ptrace(PTRACE_POKEDATA, pid, addr + i, old[i / sizeof(long)]) < 0)
			die("PTRACE_POKEDATA");
}

int
main(int argc, char **argv)
{
	static const unsigned char syscall_insn[2] = { 0x0f, 0x05 };
	struct user_regs_struct saved;
	long old_text[1], old_path[4096 / sizeof(long) + 1];
	uintptr_t text, path_addr;
	size_t path_len;
	bool patched;
	long fd;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: inject-open PID PATH\n");
		return 64;
	}
	pid = (pid_t)atoi(argv[1]);
	path_len = strlen(argv[2]) + 1;
	if (pid <= 0 || path_len > 4096) {
		fprintf(stderr, "inject-open: bad PID or PATH\n");
		return 64;
	}
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		die("PTRACE_ATTACH");
	wait_stop(pid);
	if (ptrace(PTRACE_GETREGS, pid, NULL, &saved) < 0)
		die("PTRACE_GETREGS");

	/* Another thread may run the code at the instruction pointer at any
	 * time: it is written over only when the instruction before it is
	 * not the syscall this thread is stopped after. */
	errno = 0;
	old_text[0] = ptrace(PTRACE_PEEKDATA, pid, saved.rip - 2, NULL);
	if (errno != 0)
		die("PTRACE_PEEKDATA");
	patched = memcmp(old_text, syscall_insn, sizeof syscall_insn) != 0;
	text = patched ? saved.rip : saved.rip - 2;
	if (patched)
		poke(pid, text, syscall_insn, sizeof syscall_insn, old_text);
	/* The path goes below the stack pointer, past the red zone. */
	path_addr = (saved.rsp - 128 - path_len) & ~(uintptr_t)15;
	poke(pid, path_addr, argv[2], path_len, old_path);

	fd = run_syscall(pid, &saved, text, SYS_openat, AT_FDCWD, (long)path_addr, O_RDONLY);
	if (fd >= 0)
		run_syscall(pid, &saved, text, SYS_close, fd, 0, 0);

	unpoke(pid, path_addr, path_len, old_path);
	if (patched)
		unpoke(pid, text, sizeof syscall_insn, old_text);
	/* With its own registers back, a system call it was stopped in is
	 * restarted by the kernel as after any stop. */
	if (ptrace(PTRACE_SETREGS, pid, NULL, &saved) < 0)
		die("PTRACE_SETREGS");
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0)
		die("PTRACE_DETACH");

	if (fd >= 0)
		printf("%ld 0\n", fd);
	else
		printf("-1 %ld\n", -fd);
	return 0;
}

#else

int
main(void)
{
	fprintf(stderr, "inject-open: x86-64 only\n");
	return 77;
}

#endif
