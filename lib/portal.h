/* The ScreenCast portal through libportal: one session for a monitor or a
 * window, persistent, its restore token kept under
 * $XDG_STATE_HOME/pixelpass/ so the next session for the same kind of
 * choice does not ask again. */
#pragma once

#include <glib.h>

typedef struct Portal Portal;

typedef enum {
	PORTAL_OK,
	PORTAL_MISSING,		/* no bus, no portal, or no ScreenCast (69) */
	PORTAL_CANCELLED,	/* the user declined the dialog (77) */
	PORTAL_FAILED,		/* anything else (69) */
} PortalStatus;

typedef struct {
	gboolean window;	/* a window rather than a monitor */
	gboolean hide_cursor;
} PortalRequest;

/* Runs the dialog (or reuses the stored choice) on the default main
 * context, iterating it until the session is started or failed. On
 * failure returns NULL, *status says which and *msg is the one line to
 * print. */
Portal *portal_start(const PortalRequest *req, PortalStatus *status, char **msg);

guint32 portal_node(Portal *p);
int portal_width(Portal *p);	/* 0 when the portal did not say */
int portal_height(Portal *p);
/* A new fd for the session's PipeWire remote (each call asks again), or -1. */
int portal_pipewire_fd(Portal *p);
/* Called once when the session is closed from the desktop side. */
void portal_on_closed(Portal *p, void (*cb)(gpointer), gpointer data);
/* Closes the session (if still open) and frees. */
void portal_free(Portal *p);

/* Where the restore token of that kind of choice is kept. */
char *portal_token_path(gboolean window);
