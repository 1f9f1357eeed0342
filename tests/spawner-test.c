/* lib/spawner: commands started by a process forked before the caller
 * confined itself keep the user's rights, while the caller has none. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "spawner.h"
#include "tap.h"

static GMainLoop *loop;
static pid_t ended_pid;
static int ended_status = -1;

static void
on_exited(GPid pid, gint status, gpointer ud)
{
	ended_pid = pid;
	ended_status = status;
	g_main_loop_quit(loop);
}

static gboolean
on_timeout(gpointer ud)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

/* Runs argv with its stdout (and, with fd3, fd 3) on pipes; returns what
 * it wrote on stdout, and waits for its end (at most 10 s). */
static char *
run(Spawner *sp, const char *const *argv, char **envp, gboolean fd3,
    pid_t *pid, GError **error)
{
	int out[2], three[2];
	int src[1], dst[1] = { 3 };
	SpawnOpts o = { .in = -1, .out = -1, .err = -1, .envp = envp,
	    .flags = SPAWN_PGROUP };
	GString *got = g_string_new(NULL);
	char buf[256];
	ssize_t n;
	guint t;

	g_unix_open_pipe(out, FD_CLOEXEC, NULL);
	g_unix_open_pipe(three, FD_CLOEXEC, NULL);
	o.out = fd3 ? -1 : out[1];
	if (fd3) {
		src[0] = three[1];
		o.src_fds = src;
		o.dst_fds = dst;
		o.n_fds = 1;
	}
	ended_pid = 0;
	*pid = spawner_spawn(sp, argv, &o, error);
	close(out[1]);
	close(three[1]);
	while (*pid > 0 && (n = read(fd3 ? three[0] : out[0], buf, sizeof(buf))) > 0)
		g_string_append_len(got, buf, n);
	close(out[0]);
	close(three[0]);
	if (*pid > 0 && ended_pid == 0) {
		t = g_timeout_add_seconds(10, on_timeout, NULL);
		g_main_loop_run(loop);
		g_source_remove(t);
	}
	return g_string_free(got, FALSE);
}

int
main(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("spawner-test-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "notes.txt", NULL);
	const char *const echo[] = { "sh", "-c", "echo out; exit 3", NULL };
	const char *const env[] = { "sh", "-c", "echo \"$X\"", NULL };
	const char *const three[] = { "sh", "-c", "echo three >&3", NULL };
	const char *const cat[] = { "cat", file, NULL };
	const char *const none[] = { "no-such-program-here", NULL };
	char *x_env[] = { "X=passed", "PATH=/usr/bin:/bin", NULL };
	Spawner *sp;
	pid_t pid;
	int abi, fd;
	char *got;

	loop = g_main_loop_new(NULL, FALSE);
	g_file_set_contents(file, "the user's own file\n", -1, NULL);
	sp = spawner_new(on_exited, NULL, &error);
	ok(sp != NULL, "a spawner starts");
	if (sp == NULL)
		return 1;

	got = run(sp, echo, NULL, FALSE, &pid, &error);
	ok(pid > 0 && strcmp(got, "out\n") == 0, "a command's stdout reaches us");
	ok(ended_pid == pid && WIFEXITED(ended_status) &&
	    WEXITSTATUS(ended_status) == 3, "...and its end, with its exit status 3");
	g_free(got);

	{
		const char *const nap[] = { "sleep", "10", NULL };
		SpawnOpts o = { .in = -1, .out = -1, .err = -1, .flags = SPAWN_PGROUP };
		guint t;

		ended_pid = 0;
		pid = spawner_spawn(sp, nap, &o, &error);
		ok(pid > 0 && getpgid(pid) == pid, "a command has a process group of its own");
		kill(-pid, SIGTERM);
		t = g_timeout_add_seconds(10, on_timeout, NULL);
		g_main_loop_run(loop);
		g_source_remove(t);
		ok(ended_pid == pid && WIFSIGNALED(ended_status) &&
		    WTERMSIG(ended_status) == SIGTERM,
		    "...which we can stop with a signal, and are told");
	}

	got = run(sp, env, x_env, FALSE, &pid, &error);
	ok(strcmp(got, "passed\n") == 0, "the environment given is its own");
	g_free(got);

	got = run(sp, three, NULL, TRUE, &pid, &error);
	ok(strcmp(got, "three\n") == 0, "a further descriptor arrives where asked");
	g_free(got);

	g_clear_error(&error);
	got = run(sp, none, NULL, FALSE, &pid, &error);
	ok(pid == -1 && error != NULL && strstr(error->message, "no-such-program-here") != NULL,
	    "a program that is not there: -1 and an error naming it (%s)",
	    error ? error->message : "no error");
	g_free(got);

	abi = sandbox_enter(NULL, 0, 0);
	ok(abi >= 0, "we confine ourselves (Landlock ABI %d)", abi);
	fd = open(file, O_RDONLY);
	if (abi > 0)
		ok(fd < 0 && errno == EACCES, "we can no longer open the file");
	else
		printf("ok %d - we can no longer open the file # SKIP this kernel has no Landlock\n", ++n_test);
	if (fd >= 0)
		close(fd);
	got = run(sp, cat, NULL, FALSE, &pid, &error);
	ok(strcmp(got, "the user's own file\n") == 0,
	    "a command the spawner starts still reads it");
	g_free(got);

	ok(waitpid(-1, NULL, WNOHANG) == 0, "the spawner is our one child");
	spawner_free(sp);
	ok(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "spawner_free leaves no process of ours behind");
	unlink(file);
	rmdir(dir);
	printf("1..%d\n", n_test);
	return n_failed != 0;
}
