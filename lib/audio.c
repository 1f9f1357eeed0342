#include "audio.h"
#include "log.h"
#include "pwglib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <pipewire/extensions/metadata.h>
#include <pipewire/impl.h>

typedef struct Node Node;

struct Audio {
	struct pw_context *context;
	struct pw_core *core;
	struct pw_registry *registry;
	struct spa_hook core_hook, registry_hook;
	gboolean lost;

	GHashTable *nodes;	/* id -> Node */
	GHashTable *links;	/* id -> packed output/input node ids */
	struct pw_metadata *metadata;
	struct spa_hook metadata_hook;
	char *default_sink, *default_source;
	GHashTable *targets;	/* stream id -> its "target.object" value */

	/* --app */
	char *app;
	char *sink_name;
	struct pw_proxy *sink_proxy;
	guint32 sink_id;
	struct pw_impl_module *loopback;
	struct spa_hook loopback_hook;
	guint check;
};

struct Node {
	Audio *a;
	guint32 id;
	char *name, *media_class, *app_name, *binary;
	struct pw_proxy *proxy;
	struct spa_hook hook;
	gboolean moved;
	char *orig_target;	/* before we moved it; NULL: none */
	int tries;
};

static void node_matched(Audio *a, Node *n);

static void
node_free(gpointer p)
{
	Node *n = p;

	if (n->proxy != NULL) {
		spa_hook_remove(&n->hook);
		pw_proxy_destroy(n->proxy);
	}
	g_free(n->name);
	g_free(n->media_class);
	g_free(n->app_name);
	g_free(n->binary);
	g_free(n->orig_target);
	g_free(n);
}

static gboolean
is_ours(const Node *n)
{
	return n->name != NULL && g_str_has_prefix(n->name, AUDIO_SINK_PREFIX);
}

static gboolean
is_output_stream(const Node *n)
{
	return n->media_class != NULL &&
	    strcmp(n->media_class, "Stream/Output/Audio") == 0 && !is_ours(n);
}

static void
set_str(char **dst, const char *v)
{
	if (v != NULL && g_strcmp0(*dst, v) != 0) {
		g_free(*dst);
		*dst = g_strdup(v);
	}
}

static void
on_node_info(void *data, const struct pw_node_info *info)
{
	Node *n = data;

	if (info->props == NULL)
		return;
	set_str(&n->app_name, spa_dict_lookup(info->props, PW_KEY_APP_NAME));
	set_str(&n->binary, spa_dict_lookup(info->props, PW_KEY_APP_PROCESS_BINARY));
	node_matched(n->a, n);
}

static const struct pw_node_events node_events = {
	PW_VERSION_NODE_EVENTS,
	.info = on_node_info,
};

/* "default.audio.sink" is JSON: {"name":"..."}. */
static char *
json_name(const char *json)
{
	const char *p, *q;

	if (json == NULL || (p = strstr(json, "\"name\"")) == NULL)
		return NULL;
	p += strlen("\"name\"");
	p += strspn(p, " \t:");
	if (*p++ != '"' || (q = strchr(p, '"')) == NULL)
		return NULL;
	return g_strndup(p, q - p);
}

static int
on_metadata_property(void *data, uint32_t subject, const char *key,
    const char *type, const char *value)
{
	Audio *a = data;

	if (key == NULL) {
		if (subject != PW_ID_ANY)
			g_hash_table_remove(a->targets, GUINT_TO_POINTER(subject));
		return 0;
	}
	if (subject == PW_ID_CORE && strcmp(key, "default.audio.sink") == 0) {
		g_free(a->default_sink);
		a->default_sink = json_name(value);
	} else if (subject == PW_ID_CORE && strcmp(key, "default.audio.source") == 0) {
		g_free(a->default_source);
		a->default_source = json_name(value);
	} else if (strcmp(key, "target.object") == 0) {
		if (value == NULL)
			g_hash_table_remove(a->targets, GUINT_TO_POINTER(subject));
		else
			g_hash_table_replace(a->targets, GUINT_TO_POINTER(subject),
			    g_strdup(value));
	}
	return 0;
}

static const struct pw_metadata_events metadata_events = {
	PW_VERSION_METADATA_EVENTS,
	.property = on_metadata_property,
};

static void
on_global(void *data, uint32_t id, uint32_t permissions, const char *type,
    uint32_t version, const struct spa_dict *props)
{
	Audio *a = data;

	if (strcmp(type, PW_TYPE_INTERFACE_Node) == 0 && props != NULL) {
		Node *n = g_new0(Node, 1);

		n->a = a;
		n->id = id;
		n->name = g_strdup(spa_dict_lookup(props, PW_KEY_NODE_NAME));
		n->media_class = g_strdup(spa_dict_lookup(props, PW_KEY_MEDIA_CLASS));
		n->app_name = g_strdup(spa_dict_lookup(props, PW_KEY_APP_NAME));
		g_hash_table_replace(a->nodes, GUINT_TO_POINTER(id), n);
		if (a->sink_name != NULL && g_strcmp0(n->name, a->sink_name) == 0)
			a->sink_id = id;
		/* The process binary is only in the node's full properties. */
		if (is_output_stream(n)) {
			n->proxy = pw_registry_bind(a->registry, id, type,
			    PW_VERSION_NODE, 0);
			pw_node_add_listener((struct pw_node *)n->proxy, &n->hook,
			    &node_events, n);
		}
		node_matched(a, n);
	} else if (strcmp(type, PW_TYPE_INTERFACE_Link) == 0 && props != NULL) {
		const char *o = spa_dict_lookup(props, PW_KEY_LINK_OUTPUT_NODE);
		const char *i = spa_dict_lookup(props, PW_KEY_LINK_INPUT_NODE);

		if (o != NULL && i != NULL)
			g_hash_table_replace(a->links, GUINT_TO_POINTER(id),
			    GSIZE_TO_POINTER(((guint64)strtoul(o, NULL, 10) << 32) |
			    strtoul(i, NULL, 10)));
	} else if (strcmp(type, PW_TYPE_INTERFACE_Metadata) == 0 &&
	    a->metadata == NULL && props != NULL &&
	    g_strcmp0(spa_dict_lookup(props, PW_KEY_METADATA_NAME), "default") == 0) {
		a->metadata = pw_registry_bind(a->registry, id, type,
		    PW_VERSION_METADATA, 0);
		pw_metadata_add_listener(a->metadata, &a->metadata_hook,
		    &metadata_events, a);
	}
}

static void
on_global_remove(void *data, uint32_t id)
{
	Audio *a = data;

	g_hash_table_remove(a->nodes, GUINT_TO_POINTER(id));
	g_hash_table_remove(a->links, GUINT_TO_POINTER(id));
	g_hash_table_remove(a->targets, GUINT_TO_POINTER(id));
	if (id == a->sink_id && a->sink_name != NULL && a->app != NULL) {
		log_info("the capture sink %s was removed: the application's sound is no longer captured", a->sink_name);
		a->sink_id = 0;
	}
}

static const struct pw_registry_events registry_events = {
	PW_VERSION_REGISTRY_EVENTS,
	.global = on_global,
	.global_remove = on_global_remove,
};

static void
on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	Audio *a = data;

	if (id == PW_ID_CORE && res == -EPIPE && !a->lost) {
		a->lost = TRUE;
		log_info("lost the connection to PipeWire");
	}
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

/* Why there is no PipeWire to talk to, in words: libpipewire's errno
 * for a missing socket is EHOSTDOWN, whose text ("Host is down") reads
 * as if the pixelpass host were down. */
static char *
why_no_pipewire(int errnum)
{
	const char *dir = getenv("PIPEWIRE_RUNTIME_DIR");
	const char *name = getenv("PIPEWIRE_REMOTE");

	if (dir == NULL || *dir == '\0')
		dir = getenv("XDG_RUNTIME_DIR");
	if (name == NULL || *name == '\0')
		name = "pipewire-0";
	if (name[0] != '/' && (dir == NULL || *dir == '\0'))
		return g_strdup("XDG_RUNTIME_DIR is not set");
	if (errnum == EHOSTDOWN || errnum == ENOENT || errnum == ECONNREFUSED)
		return name[0] == '/' ? g_strdup_printf("nothing listens at %s", name) :
		    g_strdup_printf("nothing listens at %s/%s", dir, name);
	return g_strdup_printf("connecting failed: %s", g_strerror(errnum));
}

Audio *
audio_connect(GError **error)
{
	Audio *a = g_new0(Audio, 1);

	a->nodes = g_hash_table_new_full(NULL, NULL, NULL, node_free);
	a->links = g_hash_table_new(NULL, NULL);
	a->targets = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	a->context = pw_context_new(pwglib_loop(), NULL, 0);
	if (a->context == NULL ||
	    (a->core = pw_context_connect(a->context, NULL, 0)) == NULL) {
		g_autofree char *why = why_no_pipewire(errno);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		    "no PipeWire audio server in this session (%s)", why);
		audio_free(a);
		return NULL;
	}
	pw_core_add_listener(a->core, &a->core_hook, &core_events, a);
	a->registry = pw_core_get_registry(a->core, PW_VERSION_REGISTRY, 0);
	pw_registry_add_listener(a->registry, &a->registry_hook,
	    &registry_events, a);
	/* Twice: the globals, then what binding them (metadata, node info)
	 * brought. */
	if (!pwglib_sync(a->core, 5000) || !pwglib_sync(a->core, 5000)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
		    "PipeWire does not answer");
		audio_free(a);
		return NULL;
	}
	return a;
}

char *
audio_default_monitor(Audio *a)
{
	return a->default_sink ? g_strdup_printf("%s.monitor", a->default_sink) : NULL;
}

char *
audio_default_source(Audio *a)
{
	return g_strdup(a->default_source);
}

static int
cmp_str(gconstpointer x, gconstpointer y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

char **
audio_list_apps(Audio *a)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	GHashTableIter it;
	Node *n;

	g_hash_table_iter_init(&it, a->nodes);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&n)) {
		const char *name = n->app_name ? n->app_name : n->binary;

		if (!is_output_stream(n) || name == NULL)
			continue;
		if (!g_ptr_array_find_with_equal_func(out, name, g_str_equal, NULL))
			g_ptr_array_add(out, g_strdup(name));
	}
	g_ptr_array_sort(out, cmp_str);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_steal(out, NULL);
}

static gboolean
linked_to(Audio *a, guint32 out, guint32 in)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->links);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		guint64 l = GPOINTER_TO_SIZE(v);

		if ((guint32)(l >> 32) == out && (guint32)l == in)
			return TRUE;
	}
	return FALSE;
}

static void
move_to_sink(Audio *a, Node *n)
{
	if (!n->moved) {
		n->moved = TRUE;
		n->orig_target = g_strdup(g_hash_table_lookup(a->targets,
		    GUINT_TO_POINTER(n->id)));
		log_debug("moving stream %u (%s) into %s", n->id,
		    n->app_name ? n->app_name : "?", a->sink_name);
	}
	pw_metadata_set_property(a->metadata, n->id, "target.object", NULL,
	    a->sink_name);
}

static void
node_matched(Audio *a, Node *n)
{
	if (a->app == NULL || a->sink_id == 0 || n->moved || !is_output_stream(n))
		return;
	if (g_strcmp0(n->app_name, a->app) == 0 ||
	    g_strcmp0(n->binary, a->app) == 0)
		move_to_sink(a, n);
}

/* The session manager may not have seen the stream yet when the target
 * is set, or may have linked it before: check, and set it again. */
static gboolean
on_check(gpointer data)
{
	Audio *a = data;
	GHashTableIter it;
	Node *n;

	if (a->sink_id == 0)
		return G_SOURCE_CONTINUE;
	g_hash_table_iter_init(&it, a->nodes);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&n)) {
		if (!n->moved || linked_to(a, n->id, a->sink_id) || n->tries >= 10)
			continue;
		n->tries++;
		log_debug("stream %u is not in %s yet: asking again", n->id,
		    a->sink_name);
		move_to_sink(a, n);
	}
	return G_SOURCE_CONTINUE;
}

/* The loopback unloads itself when its nodes are destroyed from outside
 * (pp-repair --all). */
static void
on_loopback_destroy(void *data)
{
	Audio *a = data;

	spa_hook_remove(&a->loopback_hook);
	a->loopback = NULL;
}

static const struct pw_impl_module_events loopback_events = {
	PW_VERSION_IMPL_MODULE_EVENTS,
	.destroy = on_loopback_destroy,
};

char *
audio_route_app(Audio *a, const char *app, GError **error)
{
	g_autofree char *args = NULL;
	struct pw_properties *props;
	GHashTableIter it;
	Node *n;
	gboolean have_sink = FALSE;

	if (a->metadata == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		    "PipeWire has no \"default\" metadata: is a session manager (wireplumber) running?");
		return NULL;
	}
	a->sink_name = g_strdup_printf(AUDIO_SINK_PREFIX "%ld", (long)getpid());
	/* object.linger: the sink outlives a killed pp-capture so that the
	 * application keeps playing somewhere; pp-repair removes it.
	 * session.suspend-timeout-seconds 0: WirePlumber 0.4 (Debian 12)
	 * suspends an idle node 5 s after it went idle, and crashes when the
	 * node was removed in the meantime, as ours is when the share stops
	 * or pp-repair runs; a null sink has nothing to save by suspending. */
	props = pw_properties_new(
	    "factory.name", "support.null-audio-sink",
	    PW_KEY_NODE_NAME, a->sink_name,
	    PW_KEY_NODE_DESCRIPTION, "pixelpass capture",
	    PW_KEY_MEDIA_CLASS, "Audio/Sink",
	    PW_KEY_OBJECT_LINGER, "true",
	    "audio.position", "[ FL FR ]",
	    "priority.session", "0",
	    "priority.driver", "0",
	    "session.suspend-timeout-seconds", "0",
	    NULL);
	a->sink_proxy = pw_core_create_object(a->core, "adapter",
	    PW_TYPE_INTERFACE_Node, PW_VERSION_NODE, &props->dict, 0);
	pw_properties_free(props);
	for (int i = 0; i < 50 && a->sink_id == 0; i++)
		pwglib_sync(a->core, 200);
	have_sink = a->sink_id != 0;
	if (!have_sink) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "PipeWire did not create the capture sink %s", a->sink_name);
		return NULL;
	}

	/* The loopback runs in this process: it ends with it. */
	args = g_strdup_printf("{ node.description = \"pixelpass capture loopback\" "
	    "audio.position = [ FL FR ] "
	    "capture.props = { node.name = %s_loopback stream.capture.sink = true "
	    "target.object = %s node.dont-reconnect = true node.passive = true } "
	    "playback.props = { node.name = %s_playback } }",
	    a->sink_name, a->sink_name, a->sink_name);
	a->loopback = pw_context_load_module(a->context,
	    "libpipewire-module-loopback", args, NULL);
	if (a->loopback != NULL)
		pw_impl_module_add_listener(a->loopback, &a->loopback_hook,
		    &loopback_events, a);
	else
		log_info("cannot play the captured application on to the speakers (%s): it is recorded but not heard here", g_strerror(errno));

	a->app = g_strdup(app);
	g_hash_table_iter_init(&it, a->nodes);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&n))
		node_matched(a, n);
	a->check = g_timeout_add(300, on_check, a);
	pwglib_sync(a->core, 2000);
	return g_strdup_printf("%s.monitor", a->sink_name);
}

void
audio_unroute(Audio *a)
{
	GHashTableIter it;
	Node *n;

	if (a->sink_name == NULL)
		return;
	if (a->check) {
		g_source_remove(a->check);
		a->check = 0;
	}
	g_clear_pointer(&a->app, g_free);
	g_hash_table_iter_init(&it, a->nodes);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&n)) {
		if (!n->moved)
			continue;
		/* No previous target: remove ours, and the session manager
		 * links the stream to the default sink again. */
		pw_metadata_set_property(a->metadata, n->id, "target.object",
		    NULL, n->orig_target);
		n->moved = FALSE;
	}
	if (a->loopback != NULL)
		pw_impl_module_destroy(a->loopback);	/* clears it */
	if (a->sink_id != 0)
		pw_registry_destroy(a->registry, a->sink_id);
	pwglib_sync(a->core, 2000);
	if (a->sink_proxy != NULL) {
		pw_proxy_destroy(a->sink_proxy);
		a->sink_proxy = NULL;
	}
	g_clear_pointer(&a->sink_name, g_free);
	a->sink_id = 0;
}

/* The pid in pixelpass_capture_<pid>[_loopback|_playback], or 0. */
static pid_t
name_pid(const char *name)
{
	const char *p = name + strlen(AUDIO_SINK_PREFIX);
	char *end;
	long pid = strtol(p, &end, 10);

	if (end == p || pid <= 0 || (*end != '\0' && *end != '_'))
		return 0;
	return pid;
}

/* Running, and a pp-capture (not another process that got the pid). */
static gboolean
host_running(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%ld/comm", (long)pid);
	g_autofree char *comm = NULL;

	if (!g_file_get_contents(path, &comm, NULL, NULL))
		return FALSE;
	return g_str_has_prefix(comm, "pp-capture");
}

static int
cmp_node_name(gconstpointer x, gconstpointer y)
{
	return strcmp((*(Node *const *)x)->name, (*(Node *const *)y)->name);
}

int
audio_repair(Audio *a, gboolean all, gboolean dry_run,
    void (*report)(const char *name, pid_t pid, gpointer), gpointer data)
{
	g_autoptr(GArray) victims = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	GHashTableIter it;
	gpointer key, val;
	Node *n;
	int found = 0;

	g_hash_table_iter_init(&it, a->nodes);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&n)) {
		pid_t pid;

		if (!is_ours(n) || (pid = name_pid(n->name)) == 0)
			continue;
		if (!all && host_running(pid))
			continue;
		g_ptr_array_add(names, n);
		found++;
		g_array_append_val(victims, n->id);
	}
	g_ptr_array_sort(names, cmp_node_name);
	for (guint i = 0; i < names->len; i++) {
		n = g_ptr_array_index(names, i);
		report(n->name, name_pid(n->name), data);
	}
	if (dry_run || found == 0)
		return found;

	for (guint i = 0; i < victims->len; i++) {
		guint32 id = g_array_index(victims, guint32, i);
		Node *sink = g_hash_table_lookup(a->nodes, GUINT_TO_POINTER(id));

		/* Streams sent there: forget the target, so that the session
		 * manager takes them back to the default sink. */
		g_hash_table_iter_init(&it, a->targets);
		while (g_hash_table_iter_next(&it, &key, &val)) {
			if (a->metadata != NULL && sink != NULL &&
			    g_strcmp0(val, sink->name) == 0)
				pw_metadata_set_property(a->metadata,
				    GPOINTER_TO_UINT(key), "target.object", NULL, NULL);
		}
		g_hash_table_iter_init(&it, a->nodes);
		while (g_hash_table_iter_next(&it, NULL, (gpointer *)&n))
			if (is_output_stream(n) && linked_to(a, n->id, id) &&
			    a->metadata != NULL)
				pw_metadata_set_property(a->metadata, n->id,
				    "target.object", NULL, NULL);
	}
	pwglib_sync(a->core, 2000);
	for (guint i = 0; i < victims->len; i++)
		pw_registry_destroy(a->registry, g_array_index(victims, guint32, i));
	pwglib_sync(a->core, 2000);
	return found;
}

void
audio_free(Audio *a)
{
	if (a == NULL)
		return;
	audio_unroute(a);
	g_hash_table_destroy(a->nodes);
	if (a->metadata != NULL) {
		spa_hook_remove(&a->metadata_hook);
		pw_proxy_destroy((struct pw_proxy *)a->metadata);
	}
	if (a->registry != NULL) {
		spa_hook_remove(&a->registry_hook);
		pw_proxy_destroy((struct pw_proxy *)a->registry);
	}
	if (a->core != NULL) {
		spa_hook_remove(&a->core_hook);
		pw_core_disconnect(a->core);
	}
	if (a->context != NULL)
		pw_context_destroy(a->context);
	g_hash_table_destroy(a->links);
	g_hash_table_destroy(a->targets);
	g_free(a->default_sink);
	g_free(a->default_source);
	g_free(a);
}
