#!/usr/bin/env python3
"""x11-click.py X Y UNTIL-FILE: clicks button 1 at X,Y on $DISPLAY (XTest)
every 0.3 s until UNTIL-FILE exists (at most 10 s): stands in for the
user who picks a window while a program holds the pointer grab."""
import ctypes
import os
import sys
import time

x11 = ctypes.CDLL("libX11.so.6")
xtst = ctypes.CDLL("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XFlush.argtypes = [ctypes.c_void_p]
xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("cannot open the display")
x, y, until = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 10
while not os.path.exists(until) and time.monotonic() < deadline:
    xtst.XTestFakeMotionEvent(dpy, -1, x, y, 0)
    xtst.XTestFakeButtonEvent(dpy, 1, 1, 0)
    xtst.XTestFakeButtonEvent(dpy, 1, 0, 0)
    x11.XFlush(dpy)
    time.sleep(0.3)
sys.exit(0 if os.path.exists(until) else 1)
