#!/usr/bin/env python3
"""Prints the frequency of the tone in raw mono s16le audio on stdin.

Usage: tonefreq.py RATE. Skips the first quarter second (encoder
priming), then measures the period between rising zero crossings,
interpolated between samples. Prints "FREQ RMS SPREAD": the frequency in
Hz, the level (0..1) and how much the periods vary (0 for a pure tone),
so a test can tell a tone from noise or silence.
"""
import array
import math
import sys

rate = int(sys.argv[1])
data = array.array("h")
data.frombytes(sys.stdin.buffer.read())
if sys.byteorder != "little":
    data.byteswap()
samples = data[rate // 4:]
if len(samples) < rate // 4:
    print("0 0 1")
    sys.exit(0)
rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
crossings = []
for i in range(1, len(samples)):
    a, b = samples[i - 1], samples[i]
    if a < 0 <= b:
        crossings.append(i - 1 + a / (a - b))
if len(crossings) < 3:
    print("0 %.4f 1" % rms)
    sys.exit(0)
periods = [y - x for x, y in zip(crossings, crossings[1:])]
mean = sum(periods) / len(periods)
spread = max(abs(p - mean) for p in periods) / mean
print("%.1f %.4f %.3f" % (rate / mean, rms, spread))
