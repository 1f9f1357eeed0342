#include "rendezvous.h"

#include <errno.h>
#include <gio/gio.h>
#include <mosquitto.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mqtturl.h"

/* Bytes of messages handed to the main context and not yet taken. */
#define RENDEZVOUS_MAX_QUEUED (4 << 20)

struct Rendezvous {
	struct mosquitto *mosq;
	char *url, *host;
	int port;
	gboolean tls;
	RendezvousEvents ev;
	void *ud;
	GMainContext *ctx;
	GMutex lock;		/* guards topics, up, why */
	GPtrArray *topics;
	gboolean up, ever_up, started;
	char *why;		/* the last failure, for the error */
	gint refs;		/* the Rendezvous and each pending idle */
	gint queued;		/* bytes: see RENDEZVOUS_MAX_QUEUED */
};

typedef struct {
	Rendezvous *r;
	char *topic;
	GBytes *data;		/* NULL: a state change */
	gboolean up;
	char *why;
} Event;

static void
rendezvous_unref(Rendezvous *r)
{
	if (!g_atomic_int_dec_and_test(&r->refs))
		return;
	g_ptr_array_free(r->topics, TRUE);
	g_mutex_clear(&r->lock);
	g_free(r->why);
	g_free(r->url);
	g_free(r->host);
	g_free(r);
}

static gboolean
deliver(gpointer p)
{
	Event *e = p;
	Rendezvous *r = e->r;

	if (r->mosq != NULL) {	/* not freed meanwhile */
		if (e->data != NULL) {
			if (r->ev.message != NULL) {
				size_t n;
				const uint8_t *d = g_bytes_get_data(e->data, &n);

				r->ev.message(r, e->topic, d, n, r->ud);
			}
		} else if (r->ev.state != NULL)
			r->ev.state(r, e->up, e->why, r->ud);
	}
	if (e->data != NULL) {
		g_atomic_int_add(&r->queued, -(gint)g_bytes_get_size(e->data));
		g_bytes_unref(e->data);
	}
	g_free(e->topic);
	g_free(e->why);
	g_free(e);
	rendezvous_unref(r);
	return G_SOURCE_REMOVE;
}

static void
post(Rendezvous *r, Event *e)
{
	e->r = r;
	g_atomic_int_inc(&r->refs);
	g_main_context_invoke_full(r->ctx, G_PRIORITY_DEFAULT, deliver, e, NULL);
}

static void
on_connect(struct mosquitto *m, void *ud, int rc)
{
	Rendezvous *r = ud;
	Event *e = g_new0(Event, 1);

	g_mutex_lock(&r->lock);
	if (rc == 0) {
		/* Subscribed again on every connection: the topic is kept. */
		for (guint i = 0; i < r->topics->len; i++)
			mosquitto_subscribe(m, NULL, r->topics->pdata[i], 1);
		r->up = r->ever_up = TRUE;
		e->up = TRUE;
	} else {
		g_free(r->why);
		r->why = g_strdup(mosquitto_connack_string(rc));
		e->why = g_strdup(r->why);
	}
	g_mutex_unlock(&r->lock);
	post(r, e);
}

static void
on_disconnect(struct mosquitto *m, void *ud, int rc)
{
	Rendezvous *r = ud;
	Event *e = g_new0(Event, 1);

	g_mutex_lock(&r->lock);
	r->up = FALSE;
	if (rc != 0 && r->why == NULL)
		r->why = g_strdup(mosquitto_strerror(rc));
	e->why = g_strdup(rc == 0 ? "disconnected" : mosquitto_strerror(rc));
	g_mutex_unlock(&r->lock);
	post(r, e);
}

static void
on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	Rendezvous *r = ud;
	Event *e;

	if (msg->payloadlen <= 0 || msg->payloadlen > 65536)
		return;
	/* A flood faster than the main context takes messages would queue
	 * without end: beyond 4 MB waiting, drop at once. */
	if (g_atomic_int_get(&r->queued) + msg->payloadlen > RENDEZVOUS_MAX_QUEUED)
		return;
	g_atomic_int_add(&r->queued, msg->payloadlen);
	e = g_new0(Event, 1);
	e->topic = g_strdup(msg->topic);
	e->data = g_bytes_new(msg->payload, msg->payloadlen);
	post(r, e);
}

static void
on_log(struct mosquitto *m, void *ud, int level, const char *str)
{
	Rendezvous *r = ud;

	/* Connection failures only show here (e.g. a TLS verify error). */
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
		g_mutex_lock(&r->lock);
		g_free(r->why);
		r->why = g_strdup(str);
		g_mutex_unlock(&r->lock);
	}
}

Rendezvous *
rendezvous_new(const char *url, const char *cafile,
    const RendezvousEvents *ev, void *ud, GError **error)
{
	static gsize once;
	Rendezvous *r;
	MqttUrl u;
	int rc;

	if (g_once_init_enter(&once)) {
		mosquitto_lib_init();
		g_once_init_leave(&once, 1);
	}
	if (!mqtt_url_parse(url, &u)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "rendezvous %s: not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]",
		    url);
		return NULL;
	}
	r = g_new0(Rendezvous, 1);
	r->refs = 1;
	g_mutex_init(&r->lock);
	r->topics = g_ptr_array_new_with_free_func(g_free);
	r->url = g_strdup(url);
	r->tls = u.tls;
	r->host = g_strdup(u.host);
	r->port = u.port;
	r->ev = *ev;
	r->ud = ud;
	r->ctx = g_main_context_ref_thread_default();
	r->mosq = mosquitto_new(NULL, TRUE, r);
	if (r->mosq == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "rendezvous %s: %s", url, g_strerror(errno));
		rendezvous_unref(r);
		return NULL;
	}
	mosquitto_int_option(r->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	if (u.tls) {
		if (cafile != NULL)
			rc = mosquitto_tls_set(r->mosq, cafile, NULL, NULL, NULL, NULL);
		else
			rc = mosquitto_int_option(r->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "rendezvous %s: TLS: %s%s%s%s", url, mosquitto_strerror(rc),
			    cafile ? " (CA file " : "", cafile ? cafile : "",
			    cafile ? ")" : "");
			mosquitto_destroy(r->mosq);
			r->mosq = NULL;
			rendezvous_unref(r);
			return NULL;
		}
	}
	/* Backoff between reconnections: 1 s doubling up to 16 s. */
	mosquitto_reconnect_delay_set(r->mosq, 1, 16, true);
	mosquitto_connect_callback_set(r->mosq, on_connect);
	mosquitto_disconnect_callback_set(r->mosq, on_disconnect);
	mosquitto_message_callback_set(r->mosq, on_message);
	mosquitto_log_callback_set(r->mosq, on_log);
	return r;
}

static gboolean
tick_cb(gpointer ud)
{
	return G_SOURCE_CONTINUE;
}

gboolean
rendezvous_connect(Rendezvous *r, guint timeout_s, GError **error)
{
	GSource *tick;
	gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
	int rc;

	/* Keep-alive 20 s: a dead broker is noticed within half a minute. */
	rc = mosquitto_connect_async(r->mosq, r->host, r->port, 20);
	if (rc != MOSQ_ERR_SUCCESS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE,
		    "cannot reach the rendezvous %s: %s", r->url,
		    rc == MOSQ_ERR_ERRNO ? g_strerror(errno) : mosquitto_strerror(rc));
		return FALSE;
	}
	if ((rc = mosquitto_loop_start(r->mosq)) != MOSQ_ERR_SUCCESS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "rendezvous %s: %s", r->url, mosquitto_strerror(rc));
		return FALSE;
	}
	r->started = TRUE;
	/* A tick wakes the loop to check the deadline. */
	tick = g_timeout_source_new(100);
	g_source_set_callback(tick, tick_cb, NULL, NULL);
	g_source_attach(tick, r->ctx);
	while (!rendezvous_is_up(r) && g_get_monotonic_time() < deadline)
		g_main_context_iteration(r->ctx, TRUE);
	g_source_destroy(tick);
	g_source_unref(tick);
	if (!rendezvous_is_up(r)) {
		g_mutex_lock(&r->lock);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE,
		    "cannot reach the rendezvous %s within %u s%s%s", r->url,
		    timeout_s, r->why ? ": " : "", r->why ? r->why : "");
		g_mutex_unlock(&r->lock);
		return FALSE;
	}
	return TRUE;
}

gboolean
rendezvous_is_up(Rendezvous *r)
{
	gboolean up;

	g_mutex_lock(&r->lock);
	up = r->up;
	g_mutex_unlock(&r->lock);
	return up;
}

const char *
rendezvous_url(Rendezvous *r)
{
	return r->url;
}

void
rendezvous_subscribe(Rendezvous *r, const char *topic)
{
	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->topics, g_strdup(topic));
	if (r->up)
		mosquitto_subscribe(r->mosq, NULL, topic, 1);
	g_mutex_unlock(&r->lock);
}

void
rendezvous_publish(Rendezvous *r, const char *topic, const void *data,
    size_t len)
{
	int rc = mosquitto_publish(r->mosq, NULL, topic, len, data, 1, false);

	if (rc != MOSQ_ERR_SUCCESS)
		log_debug("rendezvous %s: not sent: %s", r->url,
		    mosquitto_strerror(rc));
}

void
rendezvous_free(Rendezvous *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		mosquitto_disconnect(r->mosq);
		mosquitto_loop_stop(r->mosq, true);
	}
	mosquitto_destroy(r->mosq);
	r->mosq = NULL;
	rendezvous_unref(r);
}
