/* UDP sockets for QUIC: a host's listening sockets, which learn and set the
 * local address of every datagram (IP_PKTINFO), and a viewer's connected
 * ones. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* A socket bound to the wildcard address of family on port (0: any);
 * IPv6 sockets are IPv6-only. Returns the fd, or -1 with errno set. */
int udp_listen(int family, uint16_t port);

/* The port a socket is bound to. */
uint16_t udp_port(int fd);

/* The address a socket is bound to, for udp_recv. Returns 0, or -1 with
 * errno set. */
int udp_local(int fd, struct sockaddr_storage *local, socklen_t *local_len);

/* A socket connected to addr; local gets the address it was bound to.
 * Returns the fd, or -1 with errno set. */
int udp_connect(const struct sockaddr *addr, socklen_t len,
    struct sockaddr_storage *local, socklen_t *local_len);

/* Receives without blocking: from gets the peer. For listening sockets,
 * local holds the socket's own address on entry (udp_local) and gets the
 * address the datagram was sent to. With UDP GRO the buffer may hold
 * several datagrams of *seg bytes each (the last may be shorter); *seg is
 * the length when there is one. Returns the length, or -1 with errno
 * (EAGAIN when there is none). */
ssize_t udp_recv(int fd, uint8_t *buf, size_t len, size_t *seg,
    struct sockaddr_storage *from, socklen_t *from_len,
    struct sockaddr_storage *local, socklen_t *local_len);

/* Sends a datagram, or with gso > 0 a run of datagrams of gso bytes (the
 * last may be shorter) in one call (UDP GSO, or one by one where the
 * kernel lacks it); to NULL on a connected socket, from NULL to let the
 * kernel choose the source address. Returns 0, or -1 with errno. */
int udp_send(int fd, const uint8_t *pkt, size_t len, size_t gso,
    const struct sockaddr *to, socklen_t to_len, const struct sockaddr *from);

/* Datagrams to one peer gathered for udp_send: one system call for a
 * burst instead of one per packet. */
#define UDP_BATCH_MAX 65000
typedef struct {
	int fd;
	const struct sockaddr *to, *from;	/* as for udp_send */
	socklen_t to_len;
	size_t len, seg;
	guint n;
	gboolean sealed;	/* a short datagram ends a run */
	uint8_t buf[UDP_BATCH_MAX];
} UdpBatch;

void udp_batch_add(UdpBatch *b, const uint8_t *pkt, size_t len);
void udp_batch_flush(UdpBatch *b);

/* The largest UDP payload that fits the MTU of the route to addr (its
 * interface's, or what the kernel learned), or 0 when unknown. */
size_t udp_max_payload(const struct sockaddr *addr, socklen_t len);

/* "192.0.2.1:4433" or "[2001:db8::1]:4433" (IPv4-mapped shown as IPv4). */
char *udp_addr_string(const struct sockaddr *sa);
