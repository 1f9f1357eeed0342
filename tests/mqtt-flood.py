#!/usr/bin/env python3
"""Floods an MQTT topic with junk and replays, for tests/tunnel-flood.sh.

usage: mqtt-flood.py HOST PORT TOPIC COUNT RATE [REPLAY_HEX_FILE]

Publishes COUNT messages (QoS 0) at about RATE a second on one MQTT 3.1.1
connection: a mix of random bytes, forged envelopes that pass every cheap
check of a sealed signaling message (version, a current timestamp, a new
sender) so that each costs the host a decryption, and replays of the
messages in REPLAY_HEX_FILE (one hex payload a line). Prints
"sent N in S s" at the end.
"""
import os
import random
import socket
import struct
import sys
import time


def rlen(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(kind, body):
    return bytes([kind]) + rlen(len(body)) + body


def string(b):
    return struct.pack(">H", len(b)) + b


def forged():
    # The layout of lib/signaling's envelope: version 1, nonce (12),
    # sender (8), counter (8), time (8), then ciphertext and tag.
    return (bytes([1]) + os.urandom(12) + os.urandom(8) +
            struct.pack(">QQ", random.randrange(1, 1 << 32), int(time.time())) +
            os.urandom(random.randrange(16, 400)))


def main():
    host, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    count, rate = int(sys.argv[4]), float(sys.argv[5])
    replays = []
    if len(sys.argv) > 6:
        with open(sys.argv[6]) as f:
            replays = [bytes.fromhex(line.strip()) for line in f if line.strip()]
    s = socket.create_connection((host, port), timeout=30)
    cid = b"flood-%d" % os.getpid()
    s.sendall(packet(0x10, string(b"MQTT") + bytes([4, 2]) +
                     struct.pack(">H", 60) + string(cid)))
    ack = s.recv(4)
    if len(ack) < 4 or ack[0] != 0x20 or ack[3] != 0:
        sys.exit("mqtt-flood: the broker refused the connection")
    t0 = time.monotonic()
    sent = 0
    batch = 50
    while sent < count:
        buf = bytearray()
        for _ in range(min(batch, count - sent)):
            r = random.random()
            if replays and r < 0.3:
                payload = random.choice(replays)
            elif r < 0.65:
                payload = forged()
            else:
                payload = os.urandom(random.randrange(1, 2200))
            buf += packet(0x30, string(topic) + payload)
            sent += 1
        s.sendall(buf)
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    s.sendall(packet(0xE0, b""))
    s.close()
    print("sent %d in %.2f s" % (sent, time.monotonic() - t0))


main()
