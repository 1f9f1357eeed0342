#!/usr/bin/env python3
"""x11-key.py X Y KEY: moves the pointer to X,Y on $DISPLAY and types KEY
(a keysym name such as q) with XTest: with no window manager, the key
goes to the window under the pointer, as a user's would."""
import ctypes
import sys
import time

x11 = ctypes.CDLL("libX11.so.6")
xtst = ctypes.CDLL("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XFlush.argtypes = [ctypes.c_void_p]
x11.XStringToKeysym.restype = ctypes.c_ulong
x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
x11.XKeysymToKeycode.restype = ctypes.c_ubyte
xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("cannot open the display")
x, y, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
code = x11.XKeysymToKeycode(dpy, x11.XStringToKeysym(key.encode()))
if code == 0:
    sys.exit("no key for " + key)
xtst.XTestFakeMotionEvent(dpy, -1, x, y, 0)
x11.XFlush(dpy)
time.sleep(0.1)
xtst.XTestFakeKeyEvent(dpy, code, 1, 0)
xtst.XTestFakeKeyEvent(dpy, code, 0, 0)
x11.XFlush(dpy)
