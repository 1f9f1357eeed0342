#!/usr/bin/env python3
"""tone-level.py WAV SECONDS FREQ...: the level in dB (full scale) of each
frequency over the last SECONDS of WAV, first channel, one per line.

Each 0.1 s block is measured apart (Goertzel, Hann window) and the median
block is reported, so that a few dropouts on a loaded machine neither hide
a tone that plays nor make up one that does not."""
import math
import statistics
import struct
import sys
import wave

w = wave.open(sys.argv[1])
rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
if width != 2:
    sys.exit("expected 16-bit samples")
frames = w.readframes(w.getnframes())
n = len(frames) // (2 * ch)
take = min(n, int(float(sys.argv[2]) * rate))
samples = struct.unpack("<%dh" % (n * ch), frames[: n * ch * 2])[(n - take) * ch :: ch]
size = rate // 10
window = [0.5 - 0.5 * math.cos(2 * math.pi * i / (size - 1)) for i in range(size)]
blocks = [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)]
if not blocks:
    sys.exit("recording too short")


def level(block, f):
    k = 2 * math.cos(2 * math.pi * f / rate)
    s1 = s2 = 0.0
    for x, h in zip(block, window):
        s1, s2 = x * h + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    amp = 2 * 2 * math.sqrt(max(power, 0)) / size  # Hann's gain is 1/2
    return 20 * math.log10(amp / 32768 + 1e-12)


for f in sys.argv[3:]:
    print("%.1f" % statistics.median(level(b, float(f)) for b in blocks))
