#!/usr/bin/env python3
"""Asks a TURN server for a UDP relay with long-term credentials (RFC 5766,
RFC 5389) over udp, tcp or tls, and prints the relayed address
("ADDR:PORT"). Exits 1 with the server's error when it refuses. The lab
uses it where turnutils_uclient is unreliable (its TLS client stalls in
SSL_connect about half the time).

usage: turn-allocate.py udp|tcp|tls SERVER PORT USER PASSWORD [CAFILE]
"""
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys

MAGIC = 0x2112A442


def attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def message(kind, attrs, key=None):
    tid = os.urandom(12)
    body = b"".join(attrs)
    if key is not None:
        # MESSAGE-INTEGRITY covers the header with the length it ends at.
        head = struct.pack("!HHI", kind, len(body) + 24, MAGIC) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    return struct.pack("!HHI", kind, len(body), MAGIC) + tid + body


def parse(data):
    kind, length = struct.unpack("!HH", data[:4])
    attrs, i = {}, 20
    while i < 20 + length:
        t, n = struct.unpack("!HH", data[i:i + 4])
        attrs[t] = data[i + 4:i + 4 + n]
        i += 4 + n + (4 - n % 4) % 4
    return kind, attrs


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__.strip().splitlines()[-1])
    proto, server, port, user, password = sys.argv[1:6]
    addr = (server, int(port))
    if proto == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(addr)
        sock.settimeout(1)
    else:
        sock = socket.create_connection(addr, timeout=5)
        if proto == "tls":
            ctx = ssl.create_default_context(cafile=sys.argv[6] if len(sys.argv) > 6 else None)
            sock = ctx.wrap_socket(sock, server_hostname=server)
        sock.settimeout(2)

    def ask(msg):
        if proto == "udp":
            for _ in range(3):  # UDP: retransmit, as STUN clients do
                sock.send(msg)
                try:
                    return parse(sock.recv(2048))
                except socket.timeout:
                    pass
            raise socket.timeout("no answer")
        sock.sendall(msg)
        head = b""
        while len(head) < 20:
            head += sock.recv(20 - len(head))
        rest, need = b"", struct.unpack("!H", head[2:4])[0]
        while len(rest) < need:
            rest += sock.recv(need - len(rest))
        return parse(head + rest)

    transport = attr(0x0019, bytes([17, 0, 0, 0]))  # REQUESTED-TRANSPORT UDP
    kind, attrs = ask(message(0x0003, [transport]))
    if kind == 0x0113 and 0x0014 in attrs and 0x0015 in attrs:
        realm, nonce = attrs[0x0014], attrs[0x0015]
        key = hashlib.md5(user.encode() + b":" + realm + b":" + password.encode()).digest()
        kind, attrs = ask(message(0x0003, [attr(0x0006, user.encode()),
                                           attr(0x0014, realm), attr(0x0015, nonce),
                                           transport], key))
    if kind != 0x0103 or 0x0016 not in attrs:
        err = attrs.get(0x0009, b"\0\0\0\0")
        sys.exit("turn-allocate: refused: %d %s" % (err[2] * 100 + err[3], err[4:].decode(errors="replace")))
    xport, xaddr = struct.unpack("!HI", attrs[0x0016][2:8])
    print("%s:%d" % (socket.inet_ntoa(struct.pack("!I", xaddr ^ MAGIC)), xport ^ (MAGIC >> 16)))


try:
    main()
except ssl.SSLError as e:
    sys.exit("turn-allocate: TLS: %s" % e)
except OSError as e:
    sys.exit("turn-allocate: %s: %s" % (sys.argv[2], e))
