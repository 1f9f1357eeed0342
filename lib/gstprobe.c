#include "gstprobe.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

#define PROBE_TIMEOUT (5 * GST_SECOND)

/* Encoder libraries (OpenH264) print their own complaints on stderr
 * while they are tried; what went wrong reaches the bus anyway, and a
 * tool's stderr is for its own lines. */
static int
stderr_mute(void)
{
	int saved, null;

	if (log_verbose())
		return -1;
	fflush(stderr);
	if ((saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	return saved;
}

static void
stderr_restore(int saved)
{
	if (saved == -1)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

static GstPadProbeReturn
cb_count(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	g_atomic_int_inc((gint *)data);
	return GST_PAD_PROBE_OK;
}

gboolean
gstprobe_run(GstElement *pipe, GstElement *sink, const char *late,
    const char *empty, gboolean mute_stderr, char **why)
{
	g_autoptr(GstBus) bus = gst_element_get_bus(pipe);
	g_autoptr(GstPad) pad = gst_element_get_static_pad(sink, "sink");
	g_autoptr(GstMessage) msg = NULL;
	gint buffers = 0;
	int saved = -1;

	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb_count, &buffers,
	    NULL);
	if (mute_stderr)
		saved = stderr_mute();
	gst_element_set_state(pipe, GST_STATE_PLAYING);
	msg = gst_bus_timed_pop_filtered(bus, PROBE_TIMEOUT,
	    GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	gst_element_set_state(pipe, GST_STATE_NULL);
	stderr_restore(saved);
	if (msg == NULL) {
		*why = g_strdup(late);
	} else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
		g_autoptr(GError) error = NULL;

		gst_message_parse_error(msg, &error, NULL);
		*why = g_strdup(error->message);
	} else if (g_atomic_int_get(&buffers) == 0) {
		*why = g_strdup(empty);
	} else {
		return TRUE;
	}
	return FALSE;
}
