#include "pwglib.h"
#include "log.h"

#include <glib-unix.h>

static struct pw_loop *loop;

static gboolean
on_loop_fd(int fd, GIOCondition cond, gpointer data)
{
	pw_loop_iterate(loop, 0);
	return G_SOURCE_CONTINUE;
}

struct pw_loop *
pwglib_loop(void)
{
	if (loop != NULL)
		return loop;
	pw_init(NULL, NULL);
	loop = pw_loop_new(NULL);
	pw_loop_enter(loop);
	g_unix_fd_add(pw_loop_get_fd(loop), G_IO_IN, on_loop_fd, NULL);
	return loop;
}

static gboolean
on_wait_timeout(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

gboolean
pwglib_wait(const gboolean *flag, int timeout_ms)
{
	gboolean expired = FALSE;
	guint t = g_timeout_add(timeout_ms, on_wait_timeout, &expired);

	while (!*flag && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(t);
	return *flag;
}

struct sync {
	int seq;
	gboolean done;
};

static void
on_sync_done(void *data, uint32_t id, int seq)
{
	struct sync *s = data;

	if (id == PW_ID_CORE && seq == s->seq)
		s->done = TRUE;
}

gboolean
pwglib_sync(struct pw_core *core, int timeout_ms)
{
	static const struct pw_core_events events = {
		PW_VERSION_CORE_EVENTS,
		.done = on_sync_done,
	};
	struct spa_hook hook = { 0 };
	struct sync s = { 0 };
	gboolean ok;

	pw_core_add_listener(core, &hook, &events, &s);
	s.seq = pw_core_sync(core, PW_ID_CORE, 0);
	ok = pwglib_wait(&s.done, timeout_ms);
	spa_hook_remove(&hook);
	return ok;
}

struct PwglibNodeWatch {
	struct pw_context *context;
	struct pw_core *core;
	struct pw_registry *registry;
	struct spa_hook core_hook, registry_hook;
	guint32 node;
	gboolean fired;
	void (*cb)(gpointer);
	gpointer data;
	guint idle;
};

static gboolean
watch_fire(gpointer data)
{
	PwglibNodeWatch *w = data;

	w->idle = 0;
	w->cb(w->data);
	return G_SOURCE_REMOVE;
}

/* Called from PipeWire callbacks: report from an idle so the callback
 * may free the watch. */
static void
watch_trigger(PwglibNodeWatch *w, const char *why)
{
	if (w->fired)
		return;
	w->fired = TRUE;
	log_debug("screencast stream ended (%s)", why);
	w->idle = g_idle_add(watch_fire, w);
}

static void
on_global_remove(void *data, uint32_t id)
{
	PwglibNodeWatch *w = data;

	if (id == w->node)
		watch_trigger(w, "node removed");
}

static void
on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	PwglibNodeWatch *w = data;

	if (id == PW_ID_CORE && res == -EPIPE)
		watch_trigger(w, "PipeWire connection lost");
}

PwglibNodeWatch *
pwglib_watch_node(int fd, guint32 node, void (*cb)(gpointer), gpointer data)
{
	static const struct pw_core_events core_events = {
		PW_VERSION_CORE_EVENTS,
		.error = on_core_error,
	};
	static const struct pw_registry_events registry_events = {
		PW_VERSION_REGISTRY_EVENTS,
		.global_remove = on_global_remove,
	};
	PwglibNodeWatch *w = g_new0(PwglibNodeWatch, 1);

	w->node = node;
	w->cb = cb;
	w->data = data;
	w->context = pw_context_new(pwglib_loop(), NULL, 0);
	if (w->context == NULL)
		goto fail;
	w->core = pw_context_connect_fd(w->context, fd, NULL, 0);
	fd = -1;
	if (w->core == NULL)
		goto fail;
	pw_core_add_listener(w->core, &w->core_hook, &core_events, w);
	w->registry = pw_core_get_registry(w->core, PW_VERSION_REGISTRY, 0);
	pw_registry_add_listener(w->registry, &w->registry_hook,
	    &registry_events, w);
	return w;
fail:
	if (fd >= 0)
		close(fd);
	pwglib_watch_free(w);
	return NULL;
}

void
pwglib_watch_free(PwglibNodeWatch *w)
{
	if (w == NULL)
		return;
	if (w->idle)
		g_source_remove(w->idle);
	if (w->registry != NULL) {
		spa_hook_remove(&w->registry_hook);
		pw_proxy_destroy((struct pw_proxy *)w->registry);
	}
	if (w->core != NULL) {
		spa_hook_remove(&w->core_hook);
		pw_core_disconnect(w->core);
	}
	if (w->context != NULL)
		pw_context_destroy(w->context);
	g_free(w);
}
