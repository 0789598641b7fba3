#!/usr/bin/env python3
"""Asks a top-level X11 window to close the way a window manager's close button does: a
WM_PROTOCOLS / WM_DELETE_WINDOW client message (Xvfb runs no window manager).
Usage: wm-close.py "Window title"   -> exit 0 when sent, 1 when no such window."""
import sys
from ctypes import (CDLL, CFUNCTYPE, POINTER, Structure, Union, byref, c_char_p, c_int, c_long,
                    c_uint, c_ulong, c_void_p)

x = CDLL("libX11.so.6")
x.XOpenDisplay.restype = c_void_p
x.XOpenDisplay.argtypes = [c_char_p]
x.XDefaultRootWindow.restype = c_ulong
x.XDefaultRootWindow.argtypes = [c_void_p]
x.XInternAtom.restype = c_ulong
x.XInternAtom.argtypes = [c_void_p, c_char_p, c_int]
x.XQueryTree.argtypes = [c_void_p, c_ulong, POINTER(c_ulong), POINTER(c_ulong),
                         POINTER(POINTER(c_ulong)), POINTER(c_uint)]
x.XFetchName.argtypes = [c_void_p, c_ulong, POINTER(c_char_p)]
x.XSendEvent.argtypes = [c_void_p, c_ulong, c_int, c_long, c_void_p]
x.XFlush.argtypes = [c_void_p]


class XClientMessageEvent(Structure):
    _fields_ = [("type", c_int), ("serial", c_ulong), ("send_event", c_int),
                ("display", c_void_p), ("window", c_ulong), ("message_type", c_ulong),
                ("format", c_int), ("l", c_long * 5)]


class XEvent(Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", c_long * 24)]


def windows(dpy, w):
    root, parent, children, n = c_ulong(), c_ulong(), POINTER(c_ulong)(), c_uint()
    if not x.XQueryTree(dpy, w, byref(root), byref(parent), byref(children), byref(n)):
        return
    for i in range(n.value):
        yield children[i]
        yield from windows(dpy, children[i])


# A window can vanish while the tree is walked (the app closing one): ignore such X errors.
IGNORE = CFUNCTYPE(c_int, c_void_p, c_void_p)(lambda _d, _e: 0)
x.XSetErrorHandler(IGNORE)
dpy = x.XOpenDisplay(None)
if not dpy:
    sys.exit("cannot open the display")
title = sys.argv[1].encode()
sent = 0
for w in windows(dpy, x.XDefaultRootWindow(dpy)):
    name = c_char_p()
    if x.XFetchName(dpy, w, byref(name)) and name.value == title:
        ev = XEvent()
        ev.xclient.type = 33  # ClientMessage
        ev.xclient.window = w
        ev.xclient.message_type = x.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        ev.xclient.format = 32
        ev.xclient.l[0] = x.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        ev.xclient.l[1] = 0  # CurrentTime
        x.XSendEvent(dpy, w, 0, 0, byref(ev))
        sent += 1
x.XFlush(dpy)
sys.exit(0 if sent else 1)
