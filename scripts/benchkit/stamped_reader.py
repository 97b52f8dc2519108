"""A buffered socket reader that knows when the kernel received the bytes it returns."""

import socket
import struct
import time

from .common import now_ns

# Linux's SO_TIMESTAMPNS (and its control message, SCM_TIMESTAMPNS): a receive time in ns
# of CLOCK_REALTIME on every recvmsg. Python's socket module does not name it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESPEC = struct.Struct("@qq")


class StampedReader:
    """`readline` and `read` over a socket, as `socket.makefile("rb")` gives, and the
    arrival of the last bytes returned (a line, for `read_head`): when their first byte
    reached the socket, in the bench's clock (`now_ns`). That is the moment the sender's request was out,
    however late the reading thread (one of a Python process's, behind its interpreter
    lock) wakes to it. TCP stamps a read with its last segment's arrival, so where one read
    takes several segments the time is the latest of them: never earlier than the first
    byte came (the wait is never overstated)."""

    def __init__(self, sock):
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0
        self.chunks = []  # (end offset in buf, arrival ns) of each received chunk
        self.line_arrived = None

    def _fill(self):
        if self.pos == len(self.buf):
            self.buf.clear()
            self.chunks.clear()
            self.pos = 0
        data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(TIMESPEC.size))
        if not data:
            return False
        arrived = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= TIMESPEC.size:
                sec, nsec = TIMESPEC.unpack_from(payload)
                # From the wall clock the kernel stamps with to the bench's clock, via their
                # offset read now (both clocks advance together over such a short time).
                arrived = sec * 1_000_000_000 + nsec - (time.time_ns() - now_ns())
        self.buf += data
        self.chunks.append((len(self.buf), arrived if arrived is not None else now_ns()))
        return True

    def _arrival_of(self, offset):
        return next(ns for end, ns in self.chunks if offset < end)

    def readline(self, limit=-1):
        scanned = 0  # bytes after `pos` already searched for the end of the line
        while True:
            nl = self.buf.find(b"\n", self.pos + scanned)
            if nl >= 0 and (limit < 0 or nl - self.pos < limit):
                return self._take(nl + 1)
            if 0 <= limit <= len(self.buf) - self.pos:
                return self._take(self.pos + limit)
            scanned = len(self.buf) - self.pos
            if not self._fill():
                return self._take(len(self.buf))

    def read(self, n=-1):
        while n < 0 or len(self.buf) - self.pos < n:
            if not self._fill():
                break
        return self._take(len(self.buf) if n < 0 else min(len(self.buf), self.pos + n))

    def _take(self, end):
        if end > self.pos:
            self.line_arrived = self._arrival_of(self.pos)
        out = bytes(self.buf[self.pos:end])
        self.pos = end
        return out
