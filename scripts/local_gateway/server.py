"""The HTTP server: every request is routed, turned into an event, invoked, and
answered; one log line each."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import log
from .event import build_event
from .invoke import InvokeError, Settings, http_response, invoke
from .routes import Route, find_route

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
NOT_FOUND = (404, {"message": "Not Found"})
BAD_GATEWAY = (502, {"message": "Internal Server Error"})
TOO_LARGE = (413, {"message": "Request Entity Too Large"})
BAD_REQUEST = (400, {"message": "Bad Request"})


def _compact(doc) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog (socketserver's default is 5): with a few dozen clients at once
    # (make load) a short queue overflows and the kernel resets connections.
    request_queue_size = 128

    def __init__(self, address, routes: list[Route], settings: Settings):
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.routes = routes
        self.settings = settings
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "serial-portal-gateway"
    sys_version = ""
    server: Gateway

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # http.server's own messages (bad requests)
        log(f"{self._peer()} {format % args}")

    def log_request(self, code="-", size="-"):  # one line per request is written below
        pass

    def _peer(self) -> str:
        ip = self.client_address[0]
        return ip[7:] if ip.startswith("::ffff:") else ip

    def parse_request(self):
        self._started = time.monotonic()
        self._function = ""
        return super().parse_request()

    def handle_expect_100(self):
        # A body over the limit is refused before the client sends it.
        if self._declared_length() > MAX_BODY:
            self._refuse(*TOO_LARGE)
            return False
        return super().handle_expect_100()

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("content-length") or 0)
        except ValueError:
            return -1

    def _refuse(self, status: int, doc: dict) -> None:
        self.close_connection = True
        self._send(status, [("content-type", "application/json")], _compact(doc), None)
        self._log(status, self._started)

    def _read_body(self) -> bytes | None:
        """The request body; None once a 4xx has been answered."""
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._refuse(*BAD_REQUEST)
                    return None
                if size == 0:
                    while self.rfile.readline(8192).strip():
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self._refuse(*TOO_LARGE)
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = self._declared_length()
        if length < 0:
            self._refuse(*BAD_REQUEST)
            return None
        if length > MAX_BODY:
            self._refuse(*TOO_LARGE)
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return None  # the client went away mid-body
        return body

    def _api(self) -> None:
        body = self._read_body()
        if body is None:
            return
        method = self.command
        if not self.path.startswith("/"):  # absolute-form target (http://host/path?query)
            u = urllib.parse.urlsplit(self.path)
            self.path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        raw_path = self.path.partition("?")[0].partition("#")[0]
        found = find_route(self.server.routes, method, raw_path)
        if found is None:
            self._reply_json(*NOT_FOUND, None)
            return
        route, params = found
        self._function = route.function
        event, request_id = build_event(
            route=route,
            params=params,
            method=method,
            target=self.path,
            protocol=self.request_version,
            header_pairs=list(self.headers.items()),
            body=body,
            source_ip=self._peer(),
            server_port=self.server.server_address[1],
        )
        try:
            status, headers, data = http_response(invoke(self.server.settings, route.function, event))
        except InvokeError as e:
            log(f"{method} {raw_path} ({route.key}): invoke of {route.function} failed: {e}")
            self._reply_json(*BAD_GATEWAY, request_id)
            return
        self._send(status, headers, data, request_id)
        self._log(status, self._started)

    def _reply_json(self, status: int, doc: dict, request_id: str | None) -> None:
        self._send(status, [("content-type", "application/json")], _compact(doc), request_id)
        self._log(status, self._started)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, request_id: str | None) -> None:
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if request_id:
                self.send_header("apigw-requestid", request_id)
            no_body = status < 200 or status in (204, 304)
            if not no_body:
                self.send_header("content-length", str(len(data)))
            if self.close_connection:
                self.send_header("connection", "close")
            self.end_headers()
            if not no_body and self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _log(self, status: int, started: float) -> None:
        path = self.path.partition("?")[0]
        ms = (time.monotonic() - started) * 1000
        fn = f" -> {self._function}" if self._function else ""
        log(f"{self._peer()} {self.command} {path} {status} {ms:.0f}ms{fn}")

    def send_error(self, code, message=None, explain=None):
        # Malformed requests (bad request line, unknown method...): a JSON answer like
        # the others, without http.server's HTML page.
        self.close_connection = True
        try:
            doc = {"message": message or self.responses.get(code, ("Error",))[0]}
            data = _compact(doc)
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        log(f"{self._peer()} {getattr(self, 'command', None) or '-'} {code} ({message or 'bad request'})")

    def __getattr__(self, name: str):
        # Every method reaches the router (an ANY route takes any of them), not only the
        # ones http.server knows.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._api
        raise AttributeError(name)
