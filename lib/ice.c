#include "ice.h"

#include <gio/gio.h>
#include <netdb.h>
#include <nice/agent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "tlsrelay.h"

struct IceLink {
	NiceAgent *agent;
	guint stream;
	IceEvents ev;
	void *ud;
	char *ufrag, *pwd;
	gboolean controlling, started, connected, failed, local_done,
	    remote_done;
	IceTurnTransport turn_transport;
	gboolean has_turn;
	TlsRelay *relay;	/* turns:// */
	guint n_local[4];	/* by NiceCandidateType */
	guint n_remote, n_remote_by_type[4];
	gboolean has_stun;
	GSList *local_cands;	/* srflx ones: is a host candidate NATed? */
	gulong sig[4];
};

/* HOST[:PORT] to a numeric address (IPv4 first) and a port. */
static gboolean
resolve(const char *what, const char *hostport, guint defport, char **name,
    char **host, guint *port, GError **error)
{
	g_autofree char *h = NULL;
	const char *colon, *errstr;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	char buf[NI_MAXHOST];
	int rv;

	*port = defport;
	if (hostport[0] == '[' && (colon = strchr(hostport, ']')) != NULL) {
		h = g_strndup(hostport + 1, colon - hostport - 1);
		colon = colon[1] == ':' ? colon + 1 : NULL;
	} else if ((colon = strrchr(hostport, ':')) != NULL)
		h = g_strndup(hostport, colon - hostport);
	else
		h = g_strdup(hostport);
	if (colon != NULL) {
		*port = strtonum(colon + 1, 1, 65535, &errstr);
		if (errstr != NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "%s %s: port %s", what, hostport, errstr);
			return FALSE;
		}
	}
	if (h[0] == '\0') {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "%s %s: no host", what, hostport);
		return FALSE;
	}
	if ((rv = getaddrinfo(h, NULL, &hints, &res)) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND,
		    "%s %s: %s", what, h, gai_strerror(rv));
		return FALSE;
	}
	/* libnice takes numeric addresses only. */
	for (struct addrinfo *a = res; a != NULL; a = a->ai_next)
		if (a->ai_family == AF_INET || a->ai_next == NULL) {
			getnameinfo(a->ai_addr, a->ai_addrlen, buf, sizeof(buf),
			    NULL, 0, NI_NUMERICHOST);
			break;
		}
	freeaddrinfo(res);
	*host = g_strdup(buf);
	if (name != NULL)
		*name = g_steal_pointer(&h);
	return TRUE;
}

gboolean
ice_parse_stun(const char *url, IceStun *s, GError **error)
{
	const char *p = url;

	memset(s, 0, sizeof(*s));
	if (g_str_has_prefix(p, "stun://"))
		p += 7;
	else if (g_str_has_prefix(p, "stun:"))
		p += 5;
	if (strpbrk(p, "/?@") != NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "STUN server %s: not HOST[:PORT]", url);
		return FALSE;
	}
	return resolve("STUN server", p, 3478, NULL, &s->host, &s->port, error);
}

gboolean
ice_parse_turn(const char *url, IceTurn *t, GError **error)
{
	g_autofree char *rest = NULL;
	const char *p;
	char *at, *q, *colon;
	gboolean tls;

	memset(t, 0, sizeof(*t));
	if (g_str_has_prefix(url, "turns:"))
		tls = TRUE, p = url + 6;
	else if (g_str_has_prefix(url, "turn:"))
		tls = FALSE, p = url + 5;
	else
		goto bad;
	if (g_str_has_prefix(p, "//"))
		p += 2;
	rest = g_strdup(p);
	t->transport = tls ? ICE_TURN_TLS : ICE_TURN_UDP_TCP;
	if ((q = strchr(rest, '?')) != NULL) {
		*q++ = '\0';
		if (strcmp(q, "transport=udp") == 0 && !tls)
			t->transport = ICE_TURN_UDP;
		else if (strcmp(q, "transport=tcp") == 0)
			t->transport = tls ? ICE_TURN_TLS : ICE_TURN_TCP;
		else
			goto bad;
	}
	if ((at = strrchr(rest, '@')) == NULL || (colon = strchr(rest, ':')) == NULL ||
	    colon > at) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "TURN server %s: no user and password (turn://USER:PASS@HOST:PORT)",
		    url);
		return FALSE;
	}
	*at = '\0';
	*colon = '\0';
	t->user = g_uri_unescape_string(rest, NULL);
	t->pass = g_uri_unescape_string(colon + 1, NULL);
	if (t->user == NULL || t->pass == NULL || t->user[0] == '\0')
		goto bad;
	if (!resolve("TURN server", at + 1, tls ? 5349 : 3478, &t->name,
	    &t->host, &t->port, error)) {
		ice_turn_clear(t);
		return FALSE;
	}
	t->url = g_strdup(url);
	return TRUE;
bad:
	ice_turn_clear(t);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
	    "TURN server %s: not turn://USER:PASS@HOST[:PORT][?transport=udp|tcp] or turns://USER:PASS@HOST[:PORT]",
	    url);
	return FALSE;
}

void
ice_stun_clear(IceStun *s)
{
	g_clear_pointer(&s->host, g_free);
}

void
ice_turn_clear(IceTurn *t)
{
	g_clear_pointer(&t->url, g_free);
	g_clear_pointer(&t->name, g_free);
	g_clear_pointer(&t->host, g_free);
	g_clear_pointer(&t->ca_file, g_free);
	g_clear_pointer(&t->user, g_free);
	g_clear_pointer(&t->pass, g_free);
}

const char *
ice_turn_transport_name(IceTurnTransport t)
{
	return t == ICE_TURN_UDP ? "UDP" : t == ICE_TURN_TCP ? "TCP" :
	    t == ICE_TURN_TLS ? "TLS" : "UDP or TCP";
}

static void
on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer ud)
{
	IceLink *l = ud;
	g_autofree char *sdp = NULL;

	if (c->type <= NICE_CANDIDATE_TYPE_RELAYED)
		l->n_local[c->type]++;
	if (c->type == NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE)
		l->local_cands = g_slist_prepend(l->local_cands,
		    nice_candidate_copy(c));
	sdp = nice_agent_generate_local_candidate_sdp(agent, c);
	log_debug("ICE local candidate %s", sdp);
	if (l->ev.candidate != NULL)
		l->ev.candidate(l, sdp, l->ud);
}

static void
on_gathering_done(NiceAgent *agent, guint stream, gpointer ud)
{
	IceLink *l = ud;

	l->local_done = TRUE;
	if (l->ev.gathered != NULL)
		l->ev.gathered(l, l->ud);
}

static void
on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer ud)
{
	IceLink *l = ud;

	log_debug("ICE state %s", nice_component_state_to_string(state));
	if ((state == NICE_COMPONENT_STATE_CONNECTED ||
	    state == NICE_COMPONENT_STATE_READY) && !l->connected) {
		l->connected = TRUE;
		if (l->ev.connected != NULL)
			l->ev.connected(l, l->ud);
	} else if (state == NICE_COMPONENT_STATE_FAILED && !l->connected &&
	    !l->failed && l->local_done && l->remote_done &&
	    l->n_local[NICE_CANDIDATE_TYPE_RELAYED] == 0) {
		/* With a relay, checks through it may still be coming
		 * (libnice can go from failed back to connecting as trickled
		 * candidates and permissions arrive): the caller's timeout
		 * decides then. */
		l->failed = TRUE;
		if (l->ev.failed != NULL)
			l->ev.failed(l, l->ud);
	}
}

static void
on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
    gpointer ud)
{
	IceLink *l = ud;

	if (l->ev.recv != NULL)
		l->ev.recv(l, (const uint8_t *)buf, len, l->ud);
}

IceLink *
ice_link_new(gboolean controlling, const IceStun *stun, const IceTurn *turn,
    const IceEvents *ev, void *ud)
{
	IceLink *l = g_new0(IceLink, 1);
	gchar *u = NULL, *p = NULL;

	l->ev = *ev;
	l->ud = ud;
	l->controlling = controlling;
	l->agent = nice_agent_new_full(g_main_context_get_thread_default(),
	    NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
	g_object_set(l->agent, "controlling-mode", controlling, "ice-tcp", FALSE,
	    "ice-udp", TRUE, "upnp", FALSE, NULL);
	l->has_stun = stun != NULL && stun->host != NULL;
	if (l->has_stun)
		g_object_set(l->agent, "stun-server", stun->host,
		    "stun-server-port", stun->port, NULL);
	l->stream = nice_agent_add_stream(l->agent, 1);
	nice_agent_set_stream_name(l->agent, l->stream, "application");
	ice_link_set_turn(l, turn);
	l->sig[0] = g_signal_connect(l->agent, "new-candidate-full",
	    G_CALLBACK(on_new_candidate), l);
	l->sig[1] = g_signal_connect(l->agent, "candidate-gathering-done",
	    G_CALLBACK(on_gathering_done), l);
	l->sig[2] = g_signal_connect(l->agent, "component-state-changed",
	    G_CALLBACK(on_state), l);
	nice_agent_attach_recv(l->agent, l->stream, 1,
	    g_main_context_get_thread_default(), on_recv, l);
	nice_agent_get_local_credentials(l->agent, l->stream, &u, &p);
	l->ufrag = u;
	l->pwd = p;
	return l;
}

void
ice_link_set_turn(IceLink *l, const IceTurn *turn)
{
	g_autoptr(GError) error = NULL;

	if (turn == NULL || turn->host == NULL || l->has_turn)
		return;
	if (turn->transport == ICE_TURN_TLS) {
		/* libnice's NICE_RELAY_TYPE_TURN_TLS speaks TURN in the
		 * clear over TCP (0.1.21): TLS is ours, TCP to it libnice's. */
		l->relay = tlsrelay_new(turn->name, turn->host, turn->port,
		    turn->ca_file, &error);
		if (l->relay == NULL) {
			log_info("%s; going on without TURN", error->message);
			return;
		}
		nice_agent_set_relay_info(l->agent, l->stream, 1,
		    tlsrelay_addr(l->relay), tlsrelay_port(l->relay), turn->user,
		    turn->pass, NICE_RELAY_TYPE_TURN_TCP);
	} else {
		/* Both for a URL without ?transport=: a network that drops UDP
		 * still gets a relayed candidate over TCP, and where UDP works
		 * its relayed candidate has the higher priority. */
		if (turn->transport != ICE_TURN_TCP)
			nice_agent_set_relay_info(l->agent, l->stream, 1,
			    turn->host, turn->port, turn->user, turn->pass,
			    NICE_RELAY_TYPE_TURN_UDP);
		if (turn->transport != ICE_TURN_UDP)
			nice_agent_set_relay_info(l->agent, l->stream, 1,
			    turn->host, turn->port, turn->user, turn->pass,
			    NICE_RELAY_TYPE_TURN_TCP);
	}
	l->has_turn = TRUE;
	l->turn_transport = turn->transport;
}

void
ice_link_credentials(IceLink *l, const char **ufrag, const char **pwd)
{
	*ufrag = l->ufrag;
	*pwd = l->pwd;
}

gboolean
ice_link_start(IceLink *l, const char *ufrag, const char *pwd, GError **error)
{
	if (l->started)
		return TRUE;
	if (!nice_agent_set_remote_credentials(l->agent, l->stream, ufrag, pwd)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "the peer's ICE credentials are not valid");
		return FALSE;
	}
	if (!nice_agent_gather_candidates(l->agent, l->stream)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "ICE cannot gather candidates (no usable interface?)");
		return FALSE;
	}
	l->started = TRUE;
	return TRUE;
}

gboolean
ice_link_add_remote(IceLink *l, const char *sdp)
{
	NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(l->agent,
	    l->stream, sdp);
	GSList one = { c, NULL };

	if (c == NULL)
		return FALSE;
	c->component_id = 1;
	log_debug("ICE remote candidate %s", sdp);
	l->n_remote++;
	if (c->type < G_N_ELEMENTS(l->n_remote_by_type))
		l->n_remote_by_type[c->type]++;
	nice_agent_set_remote_candidates(l->agent, l->stream, 1, &one);
	nice_candidate_free(c);
	return TRUE;
}

void
ice_link_remote_done(IceLink *l)
{
	if (l->remote_done)
		return;
	l->remote_done = TRUE;
	nice_agent_peer_candidate_gathering_done(l->agent, l->stream);
}

void
ice_link_send(IceLink *l, const uint8_t *pkt, size_t len)
{
	/* Lost when it fails: QUIC recovers. */
	nice_agent_send(l->agent, l->stream, 1, len, (const gchar *)pkt);
}

static gboolean
natted(IceLink *l, NiceCandidate *local)
{
	/* A server-reflexive candidate with this base and another address:
	 * this side is behind a NAT. */
	for (GSList *i = l->local_cands; i != NULL; i = i->next) {
		NiceCandidate *c = i->data;

		if (nice_address_equal(&c->base_addr, &local->addr) &&
		    !nice_address_equal_no_port(&c->addr, &c->base_addr))
			return TRUE;
	}
	return FALSE;
}

IcePathKind
ice_link_path(IceLink *l, int *relay_transport, char **desc)
{
	NiceCandidate *lc = NULL, *rc = NULL;
	char la[NICE_ADDRESS_STRING_LEN], ra[NICE_ADDRESS_STRING_LEN];
	IcePathKind kind;
	const char *what;

	*relay_transport = -1;
	if (!nice_agent_get_selected_pair(l->agent, l->stream, 1, &lc, &rc)) {
		*desc = g_strdup("no path");
		return ICE_PATH_NONE;
	}
	nice_address_to_string(&lc->addr, la);
	nice_address_to_string(&rc->addr, ra);
	if (lc->type == NICE_CANDIDATE_TYPE_RELAYED ||
	    rc->type == NICE_CANDIDATE_TYPE_RELAYED) {
		kind = ICE_PATH_RELAYED;
		if (lc->type == NICE_CANDIDATE_TYPE_RELAYED && l->has_turn)
			*relay_transport = l->turn_transport;
		/* Which of the two: libnice gives a relayed candidate the
		 * type preference (the priority's top byte) 30 when its
		 * allocation is over UDP and 20 when over TCP. */
		if (*relay_transport == ICE_TURN_UDP_TCP)
			*relay_transport = lc->priority >> 24 == 30 ?
			    ICE_TURN_UDP : ICE_TURN_TCP;
	} else if (lc->type != NICE_CANDIDATE_TYPE_HOST ||
	    rc->type != NICE_CANDIDATE_TYPE_HOST || natted(l, lc))
		kind = ICE_PATH_PUNCHED;
	else
		kind = ICE_PATH_UDP;
	switch (kind) {
	case ICE_PATH_RELAYED:
		what = *relay_transport >= 0 ?
		    (*relay_transport == ICE_TURN_UDP ? "relayed through TURN over UDP" :
		    *relay_transport == ICE_TURN_TCP ? "relayed through TURN over TCP" :
		    "relayed through TURN over TLS") :
		    "relayed through the peer's TURN server over UDP";
		break;
	case ICE_PATH_PUNCHED:
		what = "UDP punched through NAT";
		break;
	default:
		what = "UDP, no NAT between";
		break;
	}
	*desc = g_strdup_printf("%s, %s %s%s%s:%u -> %s %s%s%s:%u", what,
	    nice_candidate_type_to_string(lc->type),
	    strchr(la, ':') ? "[" : "", la, strchr(la, ':') ? "]" : "",
	    nice_address_get_port(&lc->addr),
	    nice_candidate_type_to_string(rc->type),
	    strchr(ra, ':') ? "[" : "", ra, strchr(ra, ':') ? "]" : "",
	    nice_address_get_port(&rc->addr));
	return kind;
}

const char *
ice_link_relay_error(IceLink *l)
{
	if (l->relay == NULL || l->n_local[NICE_CANDIDATE_TYPE_RELAYED] > 0)
		return NULL;
	return tlsrelay_error(l->relay);
}

char *
ice_link_summary(IceLink *l)
{
	guint n = 0;

	for (int i = 0; i < 4; i++)
		n += l->n_local[i];
	/* Pairs: every local candidate with every remote one (same family,
	 * which the lab and most paths are). */
	return g_strdup_printf("%u local candidates (%u host, %u server-reflexive, %u relayed), %u remote; %u pairs checked",
	    n, l->n_local[NICE_CANDIDATE_TYPE_HOST],
	    l->n_local[NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE],
	    l->n_local[NICE_CANDIDATE_TYPE_RELAYED], l->n_remote,
	    (n - l->n_local[NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE]) * l->n_remote);
}

const char *
ice_link_no_relay_cause(IceLink *l)
{
	/* A STUN server that gave this side no address: nothing came back
	 * over UDP. */
	if (l->has_stun && l->n_local[NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE] == 0)
		return "this side got no answer from its STUN server: its network seems to drop UDP, which a TURN server reached over TCP gets through";
	if (l->n_remote > 0 &&
	    l->n_remote_by_type[NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE] == 0 &&
	    l->n_remote_by_type[NICE_CANDIDATE_TYPE_RELAYED] == 0)
		return "the peer has no address outside its network (its network may drop UDP, or it has no STUN server)";
	return "both sides' NATs seem to need a relay";
}

void
ice_link_free(IceLink *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < 3; i++)
		g_signal_handler_disconnect(l->agent, l->sig[i]);
	nice_agent_attach_recv(l->agent, l->stream, 1,
	    g_main_context_get_thread_default(), NULL, NULL);
	nice_agent_remove_stream(l->agent, l->stream);
	nice_agent_close_async(l->agent, NULL, NULL);
	g_object_unref(l->agent);
	tlsrelay_free(l->relay);
	g_slist_free_full(l->local_cands, (GDestroyNotify)nice_candidate_free);
	g_free(l->ufrag);
	g_free(l->pwd);
	g_free(l);
}
