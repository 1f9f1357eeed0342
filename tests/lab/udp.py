#!/usr/bin/env python3
"""UDP probes for checking what a NAT does with a mapping.

udp.py reflect ADDR PORT
    answers every datagram with the sender's address as seen here,
    "ADDR:PORT" (a minimal STUN server); runs until killed.
udp.py ask SRC_PORT ADDR PORT
    sends one datagram from SRC_PORT and prints the answer; prints
    nothing when none comes within 1 s (3 tries).
udp.py send SRC_PORT ADDR PORT TEXT
    sends TEXT in one datagram from SRC_PORT.
udp.py recv PORT SECONDS
    prints "listening" on stderr once bound, then the first datagram
    that arrives on PORT within SECONDS (nothing when none does).
"""
import socket
import sys


def sock(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    return s


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "reflect" and len(argv) == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((argv[2], int(argv[3])))
        while True:
            _, peer = s.recvfrom(2048)
            s.sendto(("%s:%d" % peer).encode(), peer)
    elif cmd == "ask" and len(argv) == 5:
        s = sock(int(argv[2]))
        s.settimeout(1 / 3)
        for _ in range(3):
            s.sendto(b"ask", (argv[3], int(argv[4])))
            try:
                print(s.recv(2048).decode())
                return
            except socket.timeout:
                pass
    elif cmd == "send" and len(argv) == 6:
        sock(int(argv[2])).sendto(argv[5].encode(), (argv[3], int(argv[4])))
    elif cmd == "recv" and len(argv) == 4:
        s = sock(int(argv[2]))
        s.settimeout(float(argv[3]))
        print("listening", file=sys.stderr, flush=True)
        try:
            print(s.recv(2048).decode())
        except socket.timeout:
            pass
    else:
        sys.exit(__doc__)


main(sys.argv)
