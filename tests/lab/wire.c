/*
 * pp-lab-wire: a user-space network link for the test lab. It joins two
 * persistent TUN devices, each in its own network namespace, and carries
 * IP packets between them in both directions with a fixed one-way delay,
 * random loss and an optional bottleneck rate with a bounded queue. The
 * kernel here has no netem; this stands in for it.
 *
 * Each direction is a FIFO: with a constant delay and a single bottleneck,
 * departure times never decrease, so no sorted queue is needed.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#define SLOTS		16384	/* packets in flight per direction */
#define SLOT_SIZE	2048	/* the lab's TUN devices have MTU 1500 */
#define BURST		64	/* reads per device per wakeup, for fairness */

static long long rtt_ms;	/* -d: round-trip delay, half each way */
static long long loss_pm;	/* -l: loss per direction, per mille */
static long long rate_mbit;	/* -r: bottleneck per direction, 0: none */
static long long queue_kb;	/* -q: bottleneck queue, KB */
static uint64_t seed;		/* -s: PRNG seed */
static bool seeded;

struct pkt {
	int64_t due;		/* ns, CLOCK_MONOTONIC */
	uint16_t len;
	unsigned char data[SLOT_SIZE];
};

struct dir {
	const char *name;	/* "a>b" */
	int in, out;		/* TUN fds */
	struct pkt *ring;
	size_t head, count;
	int64_t link_free;	/* when the bottleneck finishes its backlog */
	uint64_t rng;
	uint64_t passed, bytes, lost, overflow, write_err;
};

static void __dead2
usage(void)
{
	fprintf(stderr, "usage: pp-lab-wire [-d rtt-ms] [-l loss-permille] "
	    "[-q queue-kb] [-r rate-mbit] [-s seed] netns-a:dev-a netns-b:dev-b\n");
	exit(EX_USAGE);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* splitmix64: tiny, fast, and the same sequence for the same seed. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Opens the TUN device DEV inside network namespace NS (a name under
 * /run/netns or a path) and returns to our own namespace; the fd stays
 * bound to the device there. */
static int
tun_attach(const char *spec, int home)
{
	char ns[512], *dev;
	struct ifreq ifr;
	int nsfd, fd;

	if (strlcpy(ns, spec, sizeof(ns)) >= sizeof(ns) ||
	    (dev = strrchr(ns, ':')) == NULL || dev == ns || dev[1] == '\0')
		errx(EX_USAGE, "%s: expected netns:device", spec);
	*dev++ = '\0';
	if (strlen(dev) >= IFNAMSIZ)
		errx(EX_USAGE, "%s: device name too long", dev);
	if (strchr(ns, '/') == NULL) {
		char path[600];

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
	} else
		nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (nsfd == -1)
		err(EX_UNAVAILABLE, "network namespace %s", ns);
	if (setns(nsfd, CLONE_NEWNET) == -1)
		err(EX_NOPERM, "setns %s (run as root)", ns);
	close(nsfd);
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		err(EX_UNAVAILABLE, "/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strlcpy(ifr.ifr_name, dev, sizeof(ifr.ifr_name));
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		err(EX_UNAVAILABLE, "attach to TUN device %s in %s (create it with ip tuntap add)", dev, ns);
	if (setns(home, CLONE_NEWNET) == -1)
		err(EX_OSERR, "setns back");
	return fd;
}

/* Takes in up to BURST packets from d->in; returns false when the device
 * has gone (its namespace was deleted). */
static bool
dir_read(struct dir *d, int64_t delay, int64_t rate_bps, int64_t qbytes)
{
	for (int i = 0; i < BURST; i++) {
		struct pkt *p;
		ssize_t n;
		int64_t t, start;

		if (d->count == SLOTS) {
			/* Ring full: read into the slot we are about to
			 * give up on anyway, and count the drop. */
			unsigned char junk[SLOT_SIZE];

			if (read(d->in, junk, sizeof(junk)) == -1)
				return errno == EAGAIN || errno == EINTR;
			d->overflow++;
			continue;
		}
		p = &d->ring[(d->head + d->count) % SLOTS];
		if ((n = read(d->in, p->data, sizeof(p->data))) == -1)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		if (n == SLOT_SIZE) {
			d->overflow++;	/* larger than a slot: MTU too big */
			continue;
		}
		if (loss_pm > 0 && rng_next(&d->rng) % 1000 < (uint64_t)loss_pm) {
			d->lost++;
			continue;
		}
		t = now_ns();
		if (rate_bps > 0) {
			/* Tail drop when the backlog would exceed the queue. */
			start = d->link_free > t ? d->link_free : t;
			if ((start - t) * rate_bps / 8000000000 + n > qbytes) {
				d->overflow++;
				continue;
			}
			d->link_free = start + (int64_t)n * 8000000000 / rate_bps;
			t = d->link_free;
		}
		p->len = n;
		p->due = t + delay;
		d->count++;
	}
	return true;
}

/* Writes every packet that is due; returns when the next one is due, or
 * -1 when the queue is empty. */
static int64_t
dir_deliver(struct dir *d, int64_t now)
{
	while (d->count > 0) {
		struct pkt *p = &d->ring[d->head];

		if (p->due > now)
			return p->due;
		if (write(d->out, p->data, p->len) == p->len) {
			d->passed++;
			d->bytes += p->len;
		} else
			d->write_err++;
		d->head = (d->head + 1) % SLOTS;
		d->count--;
	}
	return -1;
}

static void
dir_report(const struct dir *d)
{
	printf("%s passed %" PRIu64 " bytes %" PRIu64 " lost %" PRIu64
	    " overflow %" PRIu64 " write-errors %" PRIu64 " queued %zu\n",
	    d->name, d->passed, d->bytes, d->lost, d->overflow, d->write_err,
	    d->count);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "rtt",	required_argument, NULL, 'd' },
		{ "loss",	required_argument, NULL, 'l' },
		{ "queue",	required_argument, NULL, 'q' },
		{ "rate",	required_argument, NULL, 'r' },
		{ "seed",	required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct dir dirs[2] = { { .name = "a>b" }, { .name = "b>a" } };
	struct pollfd pfd[3];
	const char *errstr;
	sigset_t mask;
	int64_t delay, rate_bps, qbytes;
	int ch, home, tun[2], sfd, status = 0;
	bool running = true;

	while ((ch = getopt_long(argc, argv, "d:l:q:r:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			rtt_ms = strtonum(optarg, 0, 60000, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "round-trip delay %s ms is %s (0 to 60000)", optarg, errstr);
			break;
		case 'l':
			loss_pm = strtonum(optarg, 0, 1000, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "loss %s per mille is %s (0 to 1000)", optarg, errstr);
			break;
		case 'q':
			queue_kb = strtonum(optarg, 2, 1024 * 1024, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "queue %s KB is %s (2 to 1048576)", optarg, errstr);
			break;
		case 'r':
			rate_mbit = strtonum(optarg, 0, 100000, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "rate %s Mbit/s is %s (0 to 100000)", optarg, errstr);
			break;
		case 's':
			seed = strtonum(optarg, 0, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "seed %s is %s", optarg, errstr);
			seeded = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (queue_kb != 0 && rate_mbit == 0)
		errx(EX_USAGE, "a queue (-q) needs a rate (-r)");

	delay = rtt_ms * 1000000 / 2;
	rate_bps = rate_mbit * 1000000;
	/* Default queue: 50 ms at the bottleneck rate, at least 64 KB. */
	qbytes = queue_kb ? queue_kb * 1024 : rate_bps / 8 / 20;
	if (qbytes < 65536 && queue_kb == 0)
		qbytes = 65536;
	if (!seeded && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		err(EX_OSERR, "getrandom");

	if ((home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		err(EX_OSERR, "/proc/self/ns/net");
	tun[0] = tun_attach(argv[0], home);
	tun[1] = tun_attach(argv[1], home);
	close(home);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(EX_OSERR, "signalfd");

	for (int i = 0; i < 2; i++) {
		dirs[i].in = tun[i];
		dirs[i].out = tun[1 - i];
		/* Each direction has its own stream, so its drops depend only
		 * on its own packets. */
		dirs[i].rng = seed ^ (i ? 0x5bd1e9955bd1e995ULL : 0);
		if ((dirs[i].ring = malloc(SLOTS * sizeof(struct pkt))) == NULL)
			err(EX_OSERR, "malloc");
	}
	pfd[0] = (struct pollfd){ .fd = tun[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = tun[1], .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = sfd, .events = POLLIN };

	while (running) {
		struct timespec ts, *tsp = NULL;
		int64_t t = now_ns(), next = -1;

		for (int i = 0; i < 2; i++) {
			int64_t due = dir_deliver(&dirs[i], t);

			if (due != -1 && (next == -1 || due < next))
				next = due;
		}
		if (next != -1) {
			next -= t;
			ts.tv_sec = next / 1000000000;
			ts.tv_nsec = next % 1000000000;
			tsp = &ts;
		}
		if (ppoll(pfd, 3, tsp, NULL) == -1) {
			if (errno == EINTR)
				continue;
			err(EX_OSERR, "ppoll");
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL) ||
			    ((pfd[i].revents & POLLIN) &&
			    !dir_read(&dirs[i], delay, rate_bps, qbytes))) {
				warnx("TUN device %s is gone (namespace deleted?)", argv[i]);
				status = EX_UNAVAILABLE;
				running = false;
			}
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGUSR1)
					running = false;
				else
					for (int i = 0; i < 2; i++)
						dir_report(&dirs[i]);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		dir_report(&dirs[i]);
	return status;
}
