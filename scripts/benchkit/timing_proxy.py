"""The proxy in front of DynamoDB Local or moto: counts and times each call."""

import socket
import threading
import time

from .common import now_ns
from .http_wire import headers_of, read_body, read_head
from .stamped_reader import StampedReader


class TimingProxy:
    """An HTTP/1.1 proxy that records every exchange: (ns the request was read, ns the
    answer was passed on, operation). `delay_s`, when set, holds every answer that long
    before passing it on (a network's latency). The function's connection is kept alive,
    as AWS endpoints keep it, even where the stand-in closes its own after each answer
    (moto's server speaks HTTP/1.0): then the proxy reconnects upstream, and the function
    does not pay a new connection per call that it would not pay in AWS."""

    def __init__(self, upstream_url):
        host, port = upstream_url.removeprefix("http://").rstrip("/").split(":")
        self.upstream = (host, int(port))
        self.delay_s = 0.0
        self.records = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, client):
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        crf = StampedReader(client)
        up = urf = None
        try:
            while True:
                arrived = []
                head = read_head(crf, arrived)
                if head is None:
                    return
                h = headers_of(head)
                raw_body, _ = read_body(crf, h)
                op = h.get("x-amz-target", "").rpartition(".")[2] or head[0].decode().split(" ")[1].split("?")[0]
                # From the request's arrival in the kernel: the proxy's waking to it and parsing
                # it are its share, not the function's.
                record = [arrived[0], None, op]
                with self.lock:
                    self.records.append(record)
                if up is None:
                    up = socket.create_connection(self.upstream)
                    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    urf = up.makefile("rb")
                up.sendall(b"".join(head) + b"\r\n" + raw_body)
                rhead = read_head(urf)
                if rhead is None:
                    return
                rh = headers_of(rhead)
                status = int(rhead[0].split()[1])
                no_body = status in (204, 304) or 100 <= status < 200
                rraw, _ = (b"", b"") if no_body else read_body(urf, rh, until_close=True)
                if self.delay_s:
                    time.sleep(self.delay_s)
                # The end: the answer handed over (the function cannot have it sooner; noted
                # before the send, so that a request the function sends on reading it, to this
                # proxy or another, never seems to start first).
                upstream_closes = rh.get("connection", "").lower() == "close" or rhead[0].startswith(b"HTTP/1.0")
                if upstream_closes:
                    rhead = keep_alive(rhead, None if no_body else len(rraw), rh)
                    urf.close()
                    up.close()
                    up = urf = None
                record[1] = now_ns()
                client.sendall(b"".join(rhead) + b"\r\n" + rraw)
                if h.get("connection", "").lower() == "close":
                    return
        except OSError:
            return
        finally:
            client.close()
            if up is not None:
                up.close()

    def between(self, start, end):
        """The exchanges that began in [start, end], their ends capped at `end` (the proxy
        thread may note an end after the function, already answered, told the Runtime API:
        it is waited for, briefly)."""
        deadline = time.monotonic() + 0.5
        while True:
            with self.lock:
                found = [r for r in self.records if start <= r[0] <= end]
            if all(r[1] is not None for r in found) or time.monotonic() > deadline:
                return [(s, min(e if e is not None else end, end), op) for s, e, op in found]
            time.sleep(0.0001)


def keep_alive(head, body_len, headers):
    """An answer's head as an HTTP/1.1 keep-alive answer: no `Connection: close`, and a
    length where the body was framed by the closing of the connection (`body_len` None:
    an answer without a body)."""
    status = head[0].replace(b"HTTP/1.0", b"HTTP/1.1", 1)
    lines = [line for line in head[1:] if not line.lower().startswith(b"connection:")]
    if body_len is not None and "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "").lower():
        lines.append(b"Content-Length: %d\r\n" % body_len)
    return [status, *lines]
