#!/usr/bin/env python3
"""tone-level.py WAV SECONDS FREQ...: the level in dB of each frequency
(Goertzel) over the last SECONDS of WAV, first channel, one per line."""
import math
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
for f in sys.argv[3:]:
    k = 2 * math.cos(2 * math.pi * float(f) / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    amp = math.sqrt(max(power, 0)) / max(take, 1)
    print("%.1f" % (20 * math.log10(amp / 32768 + 1e-12)))
