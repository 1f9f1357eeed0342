#!/usr/bin/env python3
"""Measures tones in raw mono s16le audio on stdin.

tonefreq.py RATE: prints "FREQ RMS PURE" for the single tone it holds:
its frequency in Hz (from the periods between rising zero crossings,
interpolated between samples), the level (0..1) and the fraction of
periods within 2% of the median (1 for a clean tone; a glitch or two in a
live capture costs a few, noise or silence gives near 0).

tonefreq.py RATE F1 F2...: prints the amplitude (0..1) of each frequency
(Goertzel over the last second), to tell which tones a mix holds.

The first quarter second (encoder priming) and the last tenth are skipped.
"""
import array
import math
import statistics
import sys

rate = int(sys.argv[1])
data = array.array("h")
data.frombytes(sys.stdin.buffer.read())
if sys.byteorder != "little":
    data.byteswap()
samples = data[rate // 4:len(data) - rate // 10]

if len(sys.argv) > 2:
    # The last second: a live recording starts with silence for as long
    # as the audio server takes to link it, seconds on a loaded machine,
    # and each recording of a mix is linked on its own.
    window = samples[max(0, len(samples) - rate):]
    n = len(window)
    out = []
    for f in map(float, sys.argv[2:]):
        coeff = 2 * math.cos(2 * math.pi * f / rate)
        s1 = s2 = 0.0
        for x in window:
            s1, s2 = x + coeff * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        out.append("%.4f" % (2 * math.sqrt(max(power, 0)) / max(n, 1) / 32768))
    print(" ".join(out))
    sys.exit(0)

if len(samples) < rate // 4:
    print("0 0 0")
    sys.exit(0)
rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
crossings = []
for i in range(1, len(samples)):
    a, b = samples[i - 1], samples[i]
    if a < 0 <= b:
        crossings.append(i - 1 + a / (a - b))
periods = [y - x for x, y in zip(crossings, crossings[1:])]
if len(periods) < 3:
    print("0 %.4f 0" % rms)
    sys.exit(0)
median = statistics.median(periods)
good = [p for p in periods if abs(p - median) <= 0.02 * median]
print("%.1f %.4f %.3f" % (rate / statistics.mean(good), rms,
                          len(good) / len(periods)))
