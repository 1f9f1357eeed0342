#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Over SOCK_SEQPACKET, one request or answer a message: a request is a
 * Request, then argv as NUL-terminated strings, an empty one, then envp's
 * the same way when has_envp; its fds ride along (SCM_RIGHTS) in the order
 * in, out, err (those >= 0), then src_fds. */
#define MAX_FDS 16
#define MAX_MSG 65536

typedef struct {
	gint32 flags, has_envp, has_in, has_out, has_err;
	guint32 n_fds;
	gint32 dst_fds[MAX_FDS];
} Request;

typedef struct {
	gint32 pid;		/* -1: failed, error text follows */
} Answer;

typedef struct {
	gint32 pid, status;
} Exit;

struct Spawner {
	int req;		/* requests out, answers in */
	int ev;			/* Exit messages in */
	pid_t pid;
	guint watch;
	GChildWatchFunc exited;
	gpointer ud;
};

static int sigchld_pipe[2] = { -1, -1 };

static gssize
send_fds(int s, const void *buf, size_t len, const int *fds, guint n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	gssize r;

	if (n > 0) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	while ((r = sendmsg(s, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return r;
}

static gssize
recv_fds(int s, void *buf, size_t len, int *fds, guint *n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	gssize r;

	*n = 0;
	while ((r = recvmsg(s, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			*n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), *n * sizeof(int));
		}
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (guint i = 0; i < *n; i++)
			close(fds[i]);
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

/* --- the spawner process ---------------------------------------------- */

static void
on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(sigchld_pipe[1], "", 1) < 0) {
		/* full: a wakeup is pending anyway */
	}
	errno = saved;
}

/* Splits n bytes of NUL-terminated strings up to an empty one into a
 * NULL-terminated vector; NULL when they do not end. */
static char **
take_strv(char **p, const char *end)
{
	GPtrArray *v = g_ptr_array_new();

	while (*p < end && **p != '\0') {
		size_t len = strnlen(*p, end - *p);

		if (*p + len == end) {
			g_ptr_array_free(v, TRUE);
			return NULL;
		}
		g_ptr_array_add(v, *p);
		*p += len + 1;
	}
	if (*p == end) {
		g_ptr_array_free(v, TRUE);
		return NULL;
	}
	(*p)++;
	g_ptr_array_add(v, NULL);
	return (char **)g_ptr_array_free(v, FALSE);
}

static void
serve_request(int req, char *buf, gssize len, int *fds, guint n)
{
	Request r;
	SpawnOpts o = { .in = -1, .out = -1, .err = -1 };
	g_autofree char **argv = NULL, **envp = NULL;
	g_autoptr(GError) error = NULL;
	char *p = buf + sizeof(r);
	const char *why = "malformed request";
	Answer a = { .pid = -1 };
	guint k = 0;

	if ((size_t)len < sizeof(r))
		goto answer;
	memcpy(&r, buf, sizeof(r));
	if (r.n_fds > MAX_FDS ||
	    n != (guint)(!!r.has_in + !!r.has_out + !!r.has_err) + r.n_fds ||
	    (argv = take_strv(&p, buf + len)) == NULL || argv[0] == NULL ||
	    (r.has_envp && (envp = take_strv(&p, buf + len)) == NULL))
		goto answer;
	o.in = r.has_in ? fds[k++] : -1;
	o.out = r.has_out ? fds[k++] : -1;
	o.err = r.has_err ? fds[k++] : -1;
	o.src_fds = fds + k;
	o.dst_fds = r.dst_fds;
	o.n_fds = r.n_fds;
	o.flags = r.flags;
	o.envp = envp;
	a.pid = spawn_child((const char *const *)argv, &o, &error);
	why = a.pid < 0 ? error->message : "";
answer:
	{
		g_autofree char *msg = g_malloc(sizeof(a) + strlen(why));

		memcpy(msg, &a, sizeof(a));
		memcpy(msg + sizeof(a), why, strlen(why));
		send_fds(req, msg, sizeof(a) + strlen(why), NULL, 0);
	}
	for (guint i = 0; i < n; i++)
		close(fds[i]);
}

G_GNUC_NORETURN static void
spawner_main(int req, int ev)
{
	static char buf[MAX_MSG];
	struct pollfd pfd[2] = { { req, POLLIN, 0 }, { -1, POLLIN, 0 } };

	/* Out of the terminal's process group: Ctrl-C is the tool's to handle;
	 * we end when it closes us. Of the tool's descriptors only its stderr
	 * is kept (for commands that share it): holding its stdout or status
	 * fd would delay the end of file its readers wait for. */
	setpgid(0, 0);
	prctl(PR_SET_NAME, "pp-spawner");	/* ps and pgrep tell us apart */
	req = fcntl(req, F_DUPFD_CLOEXEC, 10);
	ev = fcntl(ev, F_DUPFD_CLOEXEC, 10);
	if (req < 0 || ev < 0 || dup3(req, 3, O_CLOEXEC) < 0 ||
	    dup3(ev, 4, O_CLOEXEC) < 0)
		_exit(1);
	req = 3;
	ev = 4;
	pfd[0].fd = req;
	close_range(5, ~0U, 0);
	{
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(1);
		if (null > 4)
			close(null);
	}
	if (!g_unix_open_pipe(sigchld_pipe, FD_CLOEXEC, NULL) ||
	    !g_unix_set_fd_nonblocking(sigchld_pipe[0], TRUE, NULL) ||
	    !g_unix_set_fd_nonblocking(sigchld_pipe[1], TRUE, NULL))
		_exit(1);
	pfd[1].fd = sigchld_pipe[0];
	signal(SIGCHLD, on_sigchld);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fds[MAX_FDS];
		guint n;
		gssize len;
		int status;
		pid_t pid;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[1].revents & POLLIN) {
			char drain[64];

			while (read(sigchld_pipe[0], drain, sizeof(drain)) > 0)
				;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				Exit e = { pid, status };

				send_fds(ev, &e, sizeof(e), NULL, 0);
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			len = recv_fds(req, buf, sizeof(buf), fds, &n);
			if (len == 0 || (len < 0 && errno != EMSGSIZE))
				_exit(0);
			serve_request(req, buf, len, fds, n);
		}
	}
}

/* --- the tool's side ---------------------------------------------------- */

static gboolean
on_exit_message(int fd, GIOCondition cond, gpointer data)
{
	Spawner *sp = data;
	Exit e;
	int fds[MAX_FDS];
	guint n;
	gssize len = recv_fds(fd, &e, sizeof(e), fds, &n);

	if (len == sizeof(e)) {
		sp->exited(e.pid, e.status, sp->ud);
		return G_SOURCE_CONTINUE;
	}
	if (len < 0 && errno == EAGAIN)
		return G_SOURCE_CONTINUE;
	sp->watch = 0;
	return G_SOURCE_REMOVE;
}

Spawner *
spawner_new(GChildWatchFunc exited, gpointer ud, GError **error)
{
	int req[2], ev[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, req) != 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ev) != 0) {
		close(req[0]);
		close(req[1]);
		goto fail;
	}
	if ((pid = fork()) < 0) {
		close(req[0]);
		close(req[1]);
		close(ev[0]);
		close(ev[1]);
		goto fail;
	}
	if (pid == 0) {
		close(req[0]);
		close(ev[0]);
		spawner_main(req[1], ev[1]);
	}
	close(req[1]);
	close(ev[1]);
	Spawner *sp = g_new0(Spawner, 1);
	sp->req = req[0];
	sp->ev = ev[0];
	sp->pid = pid;
	sp->exited = exited;
	sp->ud = ud;
	g_unix_set_fd_nonblocking(sp->ev, TRUE, NULL);
	sp->watch = g_unix_fd_add(sp->ev, G_IO_IN | G_IO_HUP | G_IO_ERR,
	    on_exit_message, sp);
	return sp;
fail:
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
	    "cannot start the process that runs commands: %s", g_strerror(errno));
	return NULL;
}

pid_t
spawner_spawn(Spawner *sp, const char *const *argv, const SpawnOpts *opts,
    GError **error)
{
	Request r = { .flags = opts->flags, .has_envp = opts->envp != NULL,
	    .has_in = opts->in >= 0, .has_out = opts->out >= 0,
	    .has_err = opts->err >= 0, .n_fds = opts->n_fds };
	g_autoptr(GByteArray) msg = g_byte_array_new();
	int fds[MAX_FDS];
	guint n = 0;
	char answer[sizeof(Answer) + 1024];
	Answer a;
	gssize len;

	if (opts->n_fds + 3 > MAX_FDS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "too many descriptors to pass");
		return -1;
	}
	for (guint i = 0; i < opts->n_fds; i++)
		r.dst_fds[i] = opts->dst_fds[i];
	g_byte_array_append(msg, (const guint8 *)&r, sizeof(r));
	for (const char *const *arg = argv; *arg != NULL; arg++)
		g_byte_array_append(msg, (const guint8 *)*arg, strlen(*arg) + 1);
	g_byte_array_append(msg, (const guint8 *)"", 1);
	for (char **e = opts->envp; e != NULL && *e != NULL; e++)
		g_byte_array_append(msg, (const guint8 *)*e, strlen(*e) + 1);
	if (opts->envp != NULL)
		g_byte_array_append(msg, (const guint8 *)"", 1);
	if (opts->in >= 0)
		fds[n++] = opts->in;
	if (opts->out >= 0)
		fds[n++] = opts->out;
	if (opts->err >= 0)
		fds[n++] = opts->err;
	for (guint i = 0; i < opts->n_fds; i++)
		fds[n++] = opts->src_fds[i];
	if (msg->len > MAX_MSG) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "command line and environment too long");
		return -1;
	}
	if (send_fds(sp->req, msg->data, msg->len, fds, n) < 0 ||
	    (len = recv_fds(sp->req, answer, sizeof(answer), fds, &n)) <
	    (gssize)sizeof(a)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
		    "the process that runs commands is gone");
		return -1;
	}
	memcpy(&a, answer, sizeof(a));
	if (a.pid < 0)
		g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%.*s",
		    (int)(len - sizeof(a)), answer + sizeof(a));
	return a.pid;
}

void
spawner_free(Spawner *sp)
{
	if (sp == NULL)
		return;
	if (sp->watch != 0)
		g_source_remove(sp->watch);
	close(sp->req);
	close(sp->ev);
	waitpid(sp->pid, NULL, 0);
	g_free(sp);
}
