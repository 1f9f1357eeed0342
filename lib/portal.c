#include "portal.h"
#include "log.h"

#include <errno.h>
#include <gio/gio.h>
#include <libportal/portal.h>

struct Portal {
	XdpPortal *xdp;
	XdpSession *session;
	guint32 node;
	int width, height;
	void (*closed_cb)(gpointer);
	gpointer closed_data;
	gboolean closed;
};

static const char missing_hint[] =
    "install xdg-desktop-portal and the backend of your desktop (xdg-desktop-portal-wlr, -gnome or -kde)";

char *
portal_token_path(gboolean window)
{
	return g_build_filename(g_get_user_state_dir(), "pixelpass",
	    window ? "screencast-window.token" : "screencast-monitor.token", NULL);
}

static char *
token_load(gboolean window)
{
	g_autofree char *path = portal_token_path(window);
	char *tok = NULL;

	if (!g_file_get_contents(path, &tok, NULL, NULL))
		return NULL;
	g_strstrip(tok);
	if (*tok == '\0') {
		g_free(tok);
		return NULL;
	}
	return tok;
}

static void
token_save(gboolean window, const char *tok)
{
	g_autofree char *path = portal_token_path(window);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *data = g_strdup_printf("%s\n", tok);
	g_autoptr(GError) error = NULL;

	if (g_mkdir_with_parents(dir, 0700) != 0 ||
	    !g_file_set_contents_full(path, data, -1,
	    G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
		log_info("cannot keep the screen choice in %s: %s", path,
		    error ? error->message : g_strerror(errno));
}

/* Asks the portal for its ScreenCast version first: that tells "no
 * portal" and "a portal without ScreenCast" apart from a refused dialog,
 * and activates the portal if it is not running yet. */
static PortalStatus
check_screencast(char **msg)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(GVariant) v = NULL;

	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (bus == NULL) {
		*msg = g_strdup_printf("no D-Bus session bus (%s): start pp-capture inside a desktop session", error->message);
		return PORTAL_MISSING;
	}
	v = g_dbus_connection_call_sync(bus, "org.freedesktop.portal.Desktop",
	    "/org/freedesktop/portal/desktop", "org.freedesktop.DBus.Properties",
	    "Get", g_variant_new("(ss)", "org.freedesktop.portal.ScreenCast", "version"),
	    G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 25000, NULL, &error);
	if (v == NULL) {
		g_dbus_error_strip_remote_error(error);
		if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS) ||
		    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY) ||
		    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE))
			*msg = g_strdup_printf("the desktop portal has no ScreenCast backend: %s", missing_hint);
		else
			*msg = g_strdup_printf("no desktop portal (%s): %s", error->message, missing_hint);
		return PORTAL_MISSING;
	}
	return PORTAL_OK;
}

/* libportal is asynchronous; pp-capture has nothing else to do until the
 * session is up, so iterate the default context until the reply. */
static GAsyncResult *
wait_result(GAsyncResult **slot)
{
	while (*slot == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *slot;
}

static void
on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	*(GAsyncResult **)data = g_object_ref(res);
}

static void
on_session_closed(XdpSession *session, gpointer data)
{
	Portal *p = data;

	if (p->closed)
		return;
	p->closed = TRUE;
	log_debug("the portal closed the screencast session");
	if (p->closed_cb != NULL)
		p->closed_cb(p->closed_data);
}

static void
read_stream(Portal *p)
{
	g_autoptr(GVariant) streams = xdp_session_get_streams(p->session);
	g_autoptr(GVariant) props = NULL;
	GVariantIter iter;

	if (streams == NULL)
		return;
	g_variant_iter_init(&iter, streams);
	/* One stream: the portal was not asked for several. */
	if (g_variant_iter_next(&iter, "(u@a{sv})", &p->node, &props))
		g_variant_lookup(props, "size", "(ii)", &p->width, &p->height);
}

static PortalStatus
status_of(const GError *error)
{
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return PORTAL_CANCELLED;
	return PORTAL_FAILED;
}

Portal *
portal_start(const PortalRequest *req, PortalStatus *status, char **msg)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL, res2 = NULL;
	g_autofree char *token = NULL, *newtok = NULL;
	Portal *p;

	*msg = NULL;
	if ((*status = check_screencast(msg)) != PORTAL_OK)
		return NULL;

	p = g_new0(Portal, 1);
	p->xdp = xdp_portal_new();
	token = token_load(req->window);
	log_debug("%s the screen choice", token ? "reusing" : "asking for");
	/* Always persistent: a token used with another mode is used up. */
	xdp_portal_create_screencast_session(p->xdp,
	    req->window ? XDP_OUTPUT_WINDOW : XDP_OUTPUT_MONITOR,
	    XDP_SCREENCAST_FLAG_NONE,
	    req->hide_cursor ? XDP_CURSOR_MODE_HIDDEN : XDP_CURSOR_MODE_EMBEDDED,
	    XDP_PERSIST_MODE_PERSISTENT, token, NULL, on_done, &res);
	p->session = xdp_portal_create_screencast_session_finish(p->xdp,
	    wait_result(&res), &error);
	if (p->session == NULL) {
		*status = status_of(error);
		*msg = *status == PORTAL_CANCELLED ?
		    g_strdup("the screen share dialog was cancelled: run again and pick a screen") :
		    g_strdup_printf("cannot open a screencast session: %s", error->message);
		portal_free(p);
		return NULL;
	}
	g_signal_connect(p->session, "closed", G_CALLBACK(on_session_closed), p);

	xdp_session_start(p->session, NULL, NULL, on_done, &res2);
	if (!xdp_session_start_finish(p->session, wait_result(&res2), &error)) {
		*status = status_of(error);
		*msg = *status == PORTAL_CANCELLED ?
		    g_strdup("the screen share dialog was cancelled: run again and pick a screen") :
		    g_strdup_printf("the screencast did not start: %s", error->message);
		portal_free(p);
		return NULL;
	}
	/* The session reports persist mode 0 even when it granted a token
	 * (libportal 0.6): keep whatever token comes back. */
	newtok = xdp_session_get_restore_token(p->session);
	if (newtok != NULL)
		token_save(req->window, newtok);
	read_stream(p);
	if (p->node == 0) {
		*status = PORTAL_FAILED;
		*msg = g_strdup("the portal started a screencast without a stream: report this to your desktop's portal");
		portal_free(p);
		return NULL;
	}
	log_debug("portal stream: node %u, %dx%d", p->node, p->width, p->height);
	*status = PORTAL_OK;
	return p;
}

guint32
portal_node(Portal *p)
{
	return p->node;
}

int
portal_width(Portal *p)
{
	return p->width;
}

int
portal_height(Portal *p)
{
	return p->height;
}

int
portal_pipewire_fd(Portal *p)
{
	return xdp_session_open_pipewire_remote(p->session);
}

void
portal_on_closed(Portal *p, void (*cb)(gpointer), gpointer data)
{
	p->closed_cb = cb;
	p->closed_data = data;
}

void
portal_free(Portal *p)
{
	if (p == NULL)
		return;
	if (p->session != NULL) {
		g_signal_handlers_disconnect_by_data(p->session, p);
		if (!p->closed &&
		    xdp_session_get_session_state(p->session) == XDP_SESSION_ACTIVE) {
			g_autoptr(GDBusConnection) bus = NULL;

			xdp_session_close(p->session);
			/* Close is a message without a reply: send it before
			 * the process exits. */
			bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
			if (bus != NULL)
				g_dbus_connection_flush_sync(bus, NULL, NULL);
		}
		g_object_unref(p->session);
	}
	g_clear_object(&p->xdp);
	g_free(p);
}
