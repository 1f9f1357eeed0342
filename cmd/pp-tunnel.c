/*
 * pp-tunnel: an encrypted byte pipe between two machines, addressed by a
 * ticket. "listen" runs a command per authenticated viewer with the stream
 * on its stdin and stdout; "connect" joins a host's stream to stdio.
 * QUIC (ngtcp2, TLS 1.3, BBR) over UDP on the host's direct addresses,
 * or over an ICE link (libnice) set up through an MQTT rendezvous with
 * sealed signaling messages, through NATs and TURN relays.
 *
 * Here: main, the options, the settings and what both halves share
 * (tunnel.h); the host in tunnel-listen.c, the viewer in tunnel-connect.c.
 */
#include <err.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"
#include "sandbox.h"
#include "status.h"
#include "tlsrelay.h"
#include "tunnel.h"
#include "udp.h"

/* Used when neither the command line nor config.toml names any. The
 * host takes the first broker that answers; the ticket names it unless
 * it is the first. */
const char *const tunnel_default_rendezvous[] = {
	"mqtts://broker.hivemq.com:8883",
	"mqtts://broker.emqx.io:8883",
	"mqtts://test.mosquitto.org:8886",
	NULL
};
static const char *const default_stun[] = {
	"stun.l.google.com:19302",
	"stun.cloudflare.com:3478",
	NULL
};

static const char usage_text[] =
    "usage: pp-tunnel listen [--max-viewers N] [--port P] [--ticket-file F]\n"
    "                        [--rendezvous URL|none] [--rendezvous-ca FILE]\n"
    "                        [--stun HOST[:PORT]|none] [--turn URL|none]\n"
    "                        [--turn-ca FILE] [--status-fd N] -- CMD [ARG ...]\n"
    "       pp-tunnel connect [TICKET] [--timeout S] [--rendezvous URL]\n"
    "                        [--rendezvous-ca FILE] [--stun HOST[:PORT]|none]\n"
    "                        [--turn URL|none] [--turn-ca FILE] [--status-fd N]\n"
    "       pp-tunnel check [TICKET]\n"
    "       pp-tunnel --help | --version\n";

const char *
tunnel_family_name(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? "IPv6" : "IPv4";
}

const char *
tunnel_path_word(IcePathKind kind)
{
	switch (kind) {
	case ICE_PATH_PUNCHED:
		return "punched";
	case ICE_PATH_RELAYED:
		return "relayed";
	default:
		return "udp";
	}
}

const char *
tunnel_path_peer(const char *desc)
{
	/* "..., host 10.1.0.2:5000 -> srflx 198.51.100.11:40123" */
	const char *sp = strrchr(desc, ' ');

	return sp != NULL ? sp + 1 : desc;
}

const char *
tunnel_path_family(const char *desc)
{
	return tunnel_path_peer(desc)[0] == '[' ? "IPv6" : "IPv4";
}

/* --- settings ------------------------------------------------------------ */

const char *const *
tunnel_setting(const Tunnel *t, const char *opt, const char *key,
    const char *const *defaults)
{
	static const char *one[2];
	const char *const *v;

	if (opt != NULL) {
		one[0] = opt;
		one[1] = NULL;
		return one;
	}
	if ((v = config_get(t->config, "network", key)) != NULL)
		return v;
	return defaults;
}

void
tunnel_network_settings(Tunnel *t)
{
	static const char *const keys[] = { "rendezvous", "stun", "turn",
		"turn_ca", NULL };
	g_autofree char *path = config_path();
	g_autoptr(GError) error = NULL;

	static const char *const none[] = { NULL };

	if ((t->config = config_load(path, &error)) == NULL ||
	    !config_check_keys(t->config, "network", keys, &error))
		errx(EX_USAGE, "%s; fix or remove that line", error->message);
	/* CAs for turns://: ours, else config.toml's. */
	if (t->turn_ca == NULL)
		t->turn_ca = tunnel_setting(t, NULL, "turn_ca", none)[0];
}

int
tunnel_ice_servers(Tunnel *t)
{
	static const char *const none[] = { NULL };
	g_autoptr(GError) error = NULL;
	const char *const *v;

	/* The first STUN server that resolves. */
	for (v = tunnel_setting(t, t->stun_opt, "stun", default_stun);
	    *v != NULL; v++) {
		if (strcmp(*v, "none") == 0)
			break;
		if (ice_parse_stun(*v, &t->stun, &error))
			break;
		if (t->stun_opt != NULL ||
		    error->code == G_IO_ERROR_INVALID_ARGUMENT) {
			warnx("%s", error->message);
			return EX_USAGE;
		}
		warnx("%s; trying the next", error->message);
		g_clear_error(&error);
	}
	v = tunnel_setting(t, t->turn_opt, "turn", none);
	if (*v != NULL && strcmp(*v, "none") != 0 &&
	    !ice_parse_turn(*v, &t->turn, &error)) {
		warnx("%s", error->message);
		return error->code == G_IO_ERROR_INVALID_ARGUMENT ? EX_USAGE :
		    EX_UNAVAILABLE;
	}
	/* CAs for turns://, ours or the host's: checked now rather than at
	 * the first relay. */
	if (t->turn_ca != NULL && !tlsrelay_check_ca(t->turn_ca, &error)) {
		warnx("TURN CA file %s", error->message);
		return EX_USAGE;
	}
	t->turn.ca_file = g_strdup(t->turn_ca);
	return 0;
}

void
tunnel_confine(const Tunnel *t)
{
	/* Read late: mosquitto's TLS on each reconnection, lib/tlsrelay on
	 * each relay it carries. */
	const char *ssl_file = getenv("SSL_CERT_FILE"), *ssl_dir = getenv("SSL_CERT_DIR");
	/* SSL_CERT_*: where the user moved OpenSSL's CA store (mosquitto's
	 * TLS is OpenSSL). A missing path is skipped. */
	const SandboxRule rules[] = {
		{ t->rendezvous_ca != NULL ? t->rendezvous_ca : "", SANDBOX_READ },
		{ t->turn_ca != NULL ? t->turn_ca : "", SANDBOX_READ },
		{ ssl_file != NULL ? ssl_file : "", SANDBOX_READ },
		{ ssl_dir != NULL ? ssl_dir : "", SANDBOX_READ },
	};

	sandbox_enter_or_exit("pp-tunnel", rules, G_N_ELEMENTS(rules),
	    SANDBOX_NAMES);
}

void
tunnel_keys(Tunnel *t, const Ticket *ticket)
{
	if (!signaling_init(&t->sig, ticket->secret, sizeof(ticket->secret),
	    t->topic) ||
	    !keys_derive(ticket->secret, sizeof(ticket->secret),
	    KEYS_DIRECT_PROOF, t->proof_key))
		errx(EX_SOFTWARE, "cannot derive keys");
}

void
tunnel_free(Tunnel *t)
{
	config_free(t->config);
	t->config = NULL;
	ice_stun_clear(&t->stun);
	ice_turn_clear(&t->turn);
	signaling_clear(&t->sig);
	gnutls_memset(t->proof_key, 0, sizeof(t->proof_key));
}

void
tunnel_publish(Tunnel *t, Rendezvous *r, const char *to,
    const SignalingMsg *m)
{
	g_autoptr(GBytes) env = signaling_seal_msg(&t->sig, m);

	if (env == NULL) {
		log_debug("a signaling message did not fit");
		return;
	}
	rendezvous_publish(r, to, g_bytes_get_data(env, NULL),
	    g_bytes_get_size(env));
}

void
tunnel_ice_sockaddr(struct sockaddr_storage *ss, socklen_t *len,
    uint8_t last)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(last);
	sin->sin_addr.s_addr = htonl(0x7f000100 | last);
	*len = sizeof(*sin);
}

/* How long the end of a viewer's CMD's output waits for the CMD's exit
 * status, which says whether the viewer gets a clean end or the failure
 * (QUIC_APP_HOST_FAILED). */
#define CMD_EXIT_WAIT_MS	2000

QuicConfig
tunnel_quic_config(const Tunnel *t, gboolean server,
    const struct sockaddr *local, socklen_t local_len,
    const struct sockaddr *remote, socklen_t remote_len,
    const uint8_t *pin_fp)
{
	QuicConfig cfg = {
		.server = server,
		.local = local,
		.local_len = local_len,
		.remote = remote,
		.remote_len = remote_len,
		.idle_timeout_ms = t->idle_ms,
	};

	memcpy(cfg.proof_key, t->proof_key, KEYS_LEN);
	if (pin_fp != NULL) {
		/* Whoever relayed the packets cannot have swapped the
		 * certificate: checked in the TLS handshake, before the
		 * proof or any stream byte. */
		cfg.pin_peer = TRUE;
		memcpy(cfg.peer_fp, pin_fp, 32);
		cfg.max_udp_payload = ICE_UDP_PAYLOAD;
		cfg.probe_mtu = TRUE;
	} else
		cfg.max_udp_payload = udp_max_payload(remote, remote_len);
	if (server)
		cfg.hold_fin_ms = CMD_EXIT_WAIT_MS;
	else {
		cfg.handshake_timeout_ms = t->timeout_s * 1000;
		cfg.close_when_output_gone = TRUE;
		cfg.close_after_peer_fin = isatty(0);
	}
	return cfg;
}

void
tunnel_ticket_check(const char *text, Ticket *ticket)
{
	if (!ticket_decode(text, ticket))
		errx(EX_DATAERR, "ticket is damaged: check that it was copied whole (it starts with \"%s\")",
		    TICKET_PREFIX);
}

/* --- main --------------------------------------------------------------- */

/* The ticket from PP_TICKET, when TICKET is not on the command line:
 * argv is there for every local user to read (ps), the environment only
 * for its owner. Taken out, so that nothing we start inherits it. */
static const char *
ticket_from_env(void)
{
	const char *env = getenv("PP_TICKET");
	static char *ticket;	/* kept: still reachable at exit */

	if (env == NULL || *env == '\0')
		errx(EX_USAGE, "no ticket: give it as TICKET, or in PP_TICKET (which other users cannot read)");
	ticket = g_strdup(env);
	unsetenv("PP_TICKET");
	return ticket;
}

int
main(int argc, char *argv[])
{
	static const struct option listen_opts[] = {
		{ "max-viewers", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "rendezvous", required_argument, NULL, 'r' },
		{ "ticket-file", required_argument, NULL, 'f' },
		{ "rendezvous-ca", required_argument, NULL, 'c' },
		{ "stun", required_argument, NULL, 's' },
		{ "turn", required_argument, NULL, 'u' },
		{ "turn-ca", required_argument, NULL, 'a' },
		{ "status-fd", required_argument, NULL, 'S' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	static const struct option connect_opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "rendezvous", required_argument, NULL, 'r' },
		{ "rendezvous-ca", required_argument, NULL, 'c' },
		{ "stun", required_argument, NULL, 's' },
		{ "turn", required_argument, NULL, 'u' },
		{ "turn-ca", required_argument, NULL, 'a' },
		{ "status-fd", required_argument, NULL, 'S' },
		OPT_HELP_VERSION,
		{ NULL, 0, NULL, 0 }
	};
	Tunnel t = { .timeout_s = 10, .idle_ms = 30000 };
	const char *env, *mode;
	gboolean is_listen;
	int ch, status;

	log_init();
	signal(SIGPIPE, SIG_IGN);
	opt_early(argc, argv, usage_text);
	if (argc < 2)
		opt_usage(usage_text, EX_USAGE);
	mode = argv[1];
	if (strcmp(mode, "check") == 0) {
		Ticket ticket;

		/* A ticket never starts with '-': "check --help" is not one. */
		opt_early(argc - 1, argv + 1, usage_text);
		if (argc > 3)
			opt_usage(usage_text, EX_USAGE);
		tunnel_ticket_check(argc == 3 ? argv[2] : ticket_from_env(), &ticket);
		return 0;
	}
	if (strcmp(mode, "listen") == 0)
		is_listen = TRUE;
	else if (strcmp(mode, "connect") == 0)
		is_listen = FALSE;
	else
		opt_usage(usage_text, EX_USAGE);
	argc--;
	argv++;

	/* A TURN URL's password, like the ticket, is safer in the
	 * environment, which only its owner can read. */
	if (t.turn_opt == NULL && (env = getenv("PP_TURN")) != NULL && *env != '\0')
		t.turn_opt = env;
	if ((env = getenv("PP_TUNNEL_IDLE_TIMEOUT")) != NULL && *env != '\0')
		t.idle_ms = opt_number("PP_TUNNEL_IDLE_TIMEOUT", env, 1, 3600) * 1000;

	/* listen stops at the first word of CMD; connect takes TICKET and
	 * its options in any order. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, is_listen ? "+h" : "h",
	    is_listen ? listen_opts : connect_opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			t.max_viewers = opt_number("--max-viewers", optarg, 1, 100000);
			break;
		case 'p':
			t.port = opt_number("--port", optarg, 0, 65535);
			break;
		case 'r':
			if (strcmp(optarg, "none") != 0 &&
			    !g_str_has_prefix(optarg, "mqtt://") &&
			    !g_str_has_prefix(optarg, "mqtts://"))
				errx(EX_USAGE, "--rendezvous %s: not mqtt://HOST[:PORT], mqtts://HOST[:PORT] or none",
				    optarg);
			t.rendezvous = optarg;
			break;
		case 'c':
			t.rendezvous_ca = optarg;
			if (access(optarg, R_OK) == -1)
				err(EX_USAGE, "--rendezvous-ca %s", optarg);
			break;
		case 's':
			t.stun_opt = optarg;
			break;
		case 'u':
			t.turn_opt = optarg;
			break;
		case 'a':
			t.turn_ca = optarg;
			if (access(optarg, R_OK) == -1)
				err(EX_USAGE, "--turn-ca %s", optarg);
			break;
		case 'S':
			status_open(optarg);
			break;
		case 'f':
			t.ticket_file = optarg;
			break;
		case 't':
			t.timeout_s = opt_number("--timeout", optarg, 1, 3600);
			break;
		case 'h':
			opt_usage(usage_text, 0);
		case OPT_VERSION:
			opt_version();
		default:
			opt_bad(argv, is_listen ? "+h" : "h",
			    is_listen ? listen_opts : connect_opts);
		}
	}
	argc -= optind;
	argv += optind;

	if (is_listen) {
		if (argc < 1)
			errx(EX_USAGE, "listen needs a command to run for each viewer: pp-tunnel listen -- CMD [ARG ...]");
		status = tunnel_listen(&t, argv);
	} else {
		if (argc > 1)
			opt_usage(usage_text, EX_USAGE);
		status = tunnel_connect(&t, argc == 1 ? argv[0] : ticket_from_env());
	}
	tunnel_free(&t);
	return status;
}

