#!/usr/bin/env python3
"""QUIC Initials as an attacker sends them to a host's UDP port, for the
half-open tests and bench/flood. Run inside the test's own network
namespace: every address is on its loopback (127.0.0.0/8).

  quic-flood.py capture PORT SECONDS OUT
      Records the first QUIC Initial a client sends to UDP PORT on lo
      (an AF_PACKET socket: root), as hex, to OUT.
  quic-flood.py spoof PORT RATE SECONDS [CAPTURED]
      From a fresh address and port of 127.0.0.0/8 for every datagram, as
      a sender that forges its source would: Initial-shaped junk, and
      the CAPTURED Initial replayed, alternately, RATE a second. Prints
      what it sent and what came back (a sender with a forged address
      never reads the answers; here they are counted, to show what a
      reflection through the host would be worth).
  quic-flood.py hold PORT COUNT CAPTURED
      A sender with one real address (127.0.0.2) that answers the Retry:
      from COUNT ports, the captured ClientHello in an Initial that
      carries the token, then silence, which holds a half-open
      connection on a host that admits it until its handshake times out.
      Prints "admitted K of COUNT".
"""
import os
import random
import socket
import struct
import sys
import time

QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def varint(buf, i):
    n = 1 << (buf[i] >> 6)
    v = buf[i] & 0x3F
    for b in buf[i + 1:i + n]:
        v = (v << 8) | b
    return v, i + n


def is_initial(d):
    # long header, type Initial; the fixed bit may be greased (RFC 9287)
    return len(d) >= 7 and d[0] & 0xB0 == 0x80 and d[1:5] == b"\0\0\0\1"


def capture(port, seconds, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.bind(("lo", 0))
    s.settimeout(0.5)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            ip = s.recv(65535)
        except socket.timeout:
            continue
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] != port:
            continue
        d = ip[ihl + 8:]
        if is_initial(d):
            with open(out, "w") as f:
                f.write(d.hex() + "\n")
            return 0
    print("no QUIC Initial to port %d within %d s" % (port, seconds), file=sys.stderr)
    return 1


def junk_initial():
    dcid, scid = os.urandom(8), os.urandom(8)
    head = (bytes([0xC3]) + b"\0\0\0\1" + bytes([8]) + dcid + bytes([8]) + scid +
            b"\0" + struct.pack("!H", 0x4000 | 1162))
    return head + os.urandom(1200 - len(head))


def fresh_socket(rng):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)), 0))
    s.setblocking(False)
    return s


def spoof(port, rate, seconds, captured):
    replay = bytes.fromhex(open(captured).read().strip()) if captured else None
    rng = random.Random(port)
    sent = sent_bytes = answers = answer_bytes = 0
    t0 = time.monotonic()
    live = []  # the last few sockets, to count what the host answers

    def drain(s):
        nonlocal answers, answer_bytes
        try:
            while True:
                answer_bytes += len(s.recv(65535))
                answers += 1
        except OSError:
            pass
        s.close()

    while time.monotonic() - t0 < seconds:
        s = fresh_socket(rng)
        d = replay if replay is not None and sent % 2 else junk_initial()
        try:
            s.sendto(d, ("127.0.0.1", port))
            sent += 1
            sent_bytes += len(d)
        except OSError:
            pass
        live.append(s)
        if len(live) > 64:
            drain(live.pop(0))
        delay = t0 + sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    time.sleep(0.2)
    for s in live:
        drain(s)
    print("sent %d (%d bytes) in %.1f s, %d answers (%d bytes)" %
          (sent, sent_bytes, time.monotonic() - t0, answers, answer_bytes))
    return 0


# --- an Initial of our own (RFC 9001 5): what the hold attack needs ---------

def hkdf_label(secret, label, length):
    from cryptography.hazmat.primitives import hashes, hmac
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\0"
    out, t, i = b"", b"", 1
    while len(out) < length:
        h = hmac.HMAC(secret, hashes.SHA256())
        h.update(t + info + bytes([i]))
        t = h.finalize()
        out += t
        i += 1
    return out[:length]


def client_keys(dcid):
    from cryptography.hazmat.primitives import hashes, hmac
    h = hmac.HMAC(QUIC_V1_SALT, hashes.SHA256())
    h.update(dcid)
    secret = hkdf_label(h.finalize(), b"client in", 32)
    return (hkdf_label(secret, b"quic key", 16), hkdf_label(secret, b"quic iv", 12),
            hkdf_label(secret, b"quic hp", 16))


def hp_mask(hp, sample):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    e = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    return e.update(sample) + e.finalize()


def open_initial(d):
    """The captured Initial's SCID and its decrypted payload (frames)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    i = 5
    dcid = d[i + 1:i + 1 + d[i]]
    i += 1 + d[i]
    scid = d[i + 1:i + 1 + d[i]]
    i += 1 + d[i]
    tlen, i = varint(d, i)
    i += tlen
    length, pn_off = varint(d, i)
    key, iv, hp = client_keys(dcid)
    mask = hp_mask(hp, d[pn_off + 4:pn_off + 20])
    first = d[0] ^ (mask[0] & 0x0F)
    pnlen = (first & 3) + 1
    pn = bytes(b ^ m for b, m in zip(d[pn_off:pn_off + pnlen], mask[1:]))
    header = bytes([first]) + d[1:pn_off] + pn
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(12 - pnlen) + pn))
    body = d[pn_off + pnlen:pn_off + length]
    return scid, AESGCM(key).decrypt(nonce, body, header)


def seal_initial(dcid, scid, token, payload, pn=1):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key, iv, hp = client_keys(dcid)
    pnb = struct.pack("!I", pn)
    tok = bytes([0x40 | (len(token) >> 8), len(token) & 0xFF]) + token
    length = len(pnb) + len(payload) + 16
    header = (bytes([0xC3]) + b"\0\0\0\1" + bytes([len(dcid)]) + dcid + bytes([len(scid)]) +
              scid + tok + struct.pack("!H", 0x4000 | length) + pnb)
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(8) + pnb))
    body = AESGCM(key).encrypt(nonce, payload, header)
    pn_off = len(header) - 4
    mask = hp_mask(hp, body[:16])  # the sample: 4 bytes after pn_off
    out = bytearray(header + body)
    out[0] ^= mask[0] & 0x0F
    for k in range(4):
        out[pn_off + k] ^= mask[1 + k]
    return bytes(out)


def hold(port, count, captured):
    first = bytes.fromhex(open(captured).read().strip())
    scid, payload = open_initial(first)
    socks, admitted = [], 0
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.2", 0))
        s.settimeout(1)
        s.sendto(first, ("127.0.0.1", port))
        try:
            retry = s.recv(2048)
        except socket.timeout:
            continue
        if retry[0] & 0xB0 != 0xB0:  # not a Retry
            continue
        i = 5
        i += 1 + retry[i]
        new_dcid = retry[i + 1:i + 1 + retry[i]]
        i += 1 + retry[i]
        token = retry[i:-16]
        s.sendto(seal_initial(new_dcid, scid, token, payload), ("127.0.0.1", port))
        s.settimeout(0.3)
        try:
            if is_initial(s.recv(2048)):  # the host's ServerHello
                admitted += 1
        except socket.timeout:
            pass
        socks.append(s)
    # The host keeps what it admitted until its handshake timeout.
    print("admitted %d of %d" % (admitted, count))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "capture":
        return capture(int(argv[2]), float(argv[3]), argv[4])
    if len(argv) >= 5 and argv[1] == "spoof":
        return spoof(int(argv[2]), float(argv[3]), float(argv[4]),
                     argv[5] if len(argv) > 5 else None)
    if len(argv) == 5 and argv[1] == "hold":
        return hold(int(argv[2]), int(argv[3]), argv[4])
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
