#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

/* Large socket buffers: a burst of a fast sender fits instead of being
 * dropped. As root the FORCE variants pass the system's limit. */
static gboolean gso_broken;	/* the kernel refused UDP_SEGMENT once */

static void
udp_buffers(int fd)
{
	int sz = 4 << 20, on = 1;

	/* Coalesced receives where the kernel can (Linux 5.0). */
	setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

int
udp_listen(int family, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, on = 1, save;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1)
			goto fail;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) == -1)
			goto fail;
	}
	udp_buffers(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		goto fail;
	return fd;
fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

int
udp_local(int fd, struct sockaddr_storage *local, socklen_t *local_len)
{
	*local_len = sizeof(*local);
	return getsockname(fd, (struct sockaddr *)local, local_len);
}

uint16_t
udp_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (udp_local(fd, &ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int
udp_connect(const struct sockaddr *addr, socklen_t len,
    struct sockaddr_storage *local, socklen_t *local_len)
{
	int fd, save;

	if ((fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	udp_buffers(fd);
	if (connect(fd, addr, len) == -1 ||
	    udp_local(fd, local, local_len) == -1) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

ssize_t
udp_recv(int fd, uint8_t *buf, size_t len, size_t *seg,
    struct sockaddr_storage *from, socklen_t *from_len,
    struct sockaddr_storage *local, socklen_t *local_len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { buf, len };
	struct msghdr msg = {
		.msg_name = from, .msg_namelen = sizeof(*from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1)
		return -1;
	*from_len = msg.msg_namelen;
	*seg = n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int gso;

			memcpy(&gso, CMSG_DATA(c), sizeof(gso));
			if (gso > 0)
				*seg = gso;
		} else if (local == NULL)
			continue;
		else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
		}
	}
	return n;
}

int
udp_send(int fd, const uint8_t *pkt, size_t len, size_t gso,
    const struct sockaddr *to, socklen_t to_len, const struct sockaddr *from)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cbuf;
	struct cmsghdr *c;
	size_t clen = 0;
	struct iovec iov = { (void *)pkt, len };
	struct msghdr msg = {
		.msg_name = (void *)to, .msg_namelen = to ? to_len : 0,
		.msg_iov = &iov, .msg_iovlen = 1,
	};

	if (gso >= len || (gso > 0 && gso_broken)) {
		if (gso > 0 && gso < len) {
			/* No GSO here: one by one. */
			for (size_t off = 0; off < len; off += gso)
				if (udp_send(fd, pkt + off, MIN(gso, len - off), 0,
				    to, to_len, from) == -1)
					return -1;
			return 0;
		}
		gso = 0;
	}
	memset(&cbuf, 0, sizeof(cbuf));
	/* Answer from the address the viewer sent to, on a host with many. */
	if (from != NULL) {
		if (from->sa_family == AF_INET) {
			struct in_pktinfo pi = {
				.ipi_spec_dst = ((const struct sockaddr_in *)from)->sin_addr,
			};

			c = (struct cmsghdr *)(cbuf.buf + clen);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			clen += CMSG_SPACE(sizeof(pi));
		} else {
			struct in6_pktinfo pi = {
				.ipi6_addr = ((const struct sockaddr_in6 *)from)->sin6_addr,
			};

			c = (struct cmsghdr *)(cbuf.buf + clen);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			clen += CMSG_SPACE(sizeof(pi));
		}
	}
	if (gso > 0) {
		uint16_t g = gso;

		c = (struct cmsghdr *)(cbuf.buf + clen);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(g));
		memcpy(CMSG_DATA(c), &g, sizeof(g));
		clen += CMSG_SPACE(sizeof(g));
	}
	if (clen > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = clen;
	}
	/* A full socket buffer blocks briefly (the sockets are blocking;
	 * reads use MSG_DONTWAIT): the kernel paces us instead of dropping. */
	while (sendmsg(fd, &msg, 0) == -1) {
		if (errno == EINTR)
			continue;
		if (gso > 0 && (errno == EIO || errno == EINVAL ||
		    errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
			gso_broken = TRUE;
			return udp_send(fd, pkt, len, gso, to, to_len, from);
		}
		return -1;
	}
	return 0;
}

void
udp_batch_flush(UdpBatch *b)
{
	if (b->n > 0)
		udp_send(b->fd, b->buf, b->len, b->n > 1 ? b->seg : 0, b->to,
		    b->to_len, b->from);
	b->len = b->seg = b->n = 0;
	b->sealed = FALSE;
}

void
udp_batch_add(UdpBatch *b, const uint8_t *pkt, size_t len)
{
	/* A run is datagrams of one size, the last one possibly shorter. */
	if (b->n > 0 && (b->sealed || len > b->seg ||
	    b->len + len > sizeof(b->buf) || b->n >= 44))
		udp_batch_flush(b);
	if (b->n == 0)
		b->seg = len;
	else if (len < b->seg)
		b->sealed = TRUE;
	memcpy(b->buf + b->len, pkt, len);
	b->len += len;
	b->n++;
}

size_t
udp_max_payload(const struct sockaddr *addr, socklen_t len)
{
	int fd, mtu = 0;
	socklen_t ml = sizeof(mtu);
	size_t hdr = addr->sa_family == AF_INET6 ? 48 : 28;

	/* A connected socket asks the routing table; nothing is sent. */
	if ((fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (connect(fd, addr, len) == -1 ||
	    getsockopt(fd, addr->sa_family == AF_INET6 ? IPPROTO_IPV6 :
	    IPPROTO_IP, addr->sa_family == AF_INET6 ? IPV6_MTU : IP_MTU, &mtu,
	    &ml) == -1)
		mtu = 0;
	close(fd);
	return (size_t)mtu > hdr + 1200 ? (size_t)mtu - hdr : 0;
}

char *
udp_addr_string(const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		return g_strdup_printf("%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], host,
			    sizeof(host));
			return g_strdup_printf("%s:%u", host, ntohs(sin6->sin6_port));
		}
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		return g_strdup_printf("[%s]:%u", host, ntohs(sin6->sin6_port));
	}
	return g_strdup("?");
}
