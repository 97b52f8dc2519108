"""The Lambda Runtime API a bootstrap talks to: one per process, serving queued events
and timing the answers."""

import json
import queue
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import now_ns
from .http_wire import read_body


class RuntimeApi:
    """A Lambda Runtime API for one process: hands out queued events, times the answers.

    A fresh instance per process, so a `next` left waiting by a killed process never
    takes an event meant for the next one."""

    def __init__(self, function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench", timeout_s=10):
        self.events = queue.Queue()
        self.sent = {}  # request id -> ns when its event was handed out
        self.answers = {}  # request id -> (ns answered, status, body)
        self.next_at = []  # ns of every `next` received
        self.cond = threading.Condition()
        self.arn = function_arn
        self.timeout_s = timeout_s
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404, b"{}")
                with api.cond:
                    api.next_at.append(now_ns())
                item = api.events.get()
                if item is None:  # closed
                    api.events.put(None)
                    self.close_connection = True
                    return
                rid, body = item
                deadline = int(time.time() * 1000) + api.timeout_s * 1000
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Lambda-Runtime-Aws-Request-Id: {rid}\r\n"
                    f"Lambda-Runtime-Deadline-Ms: {deadline}\r\n"
                    f"Lambda-Runtime-Invoked-Function-Arn: {api.arn}\r\n"
                    f"Lambda-Runtime-Trace-Id: Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                with api.cond:
                    api.sent[rid] = now_ns()
                self.wfile.write(head + body)
                self.wfile.flush()

            def do_POST(self):
                heads = {k.lower(): v for k, v in self.headers.items()}
                _, body = read_body(self.rfile, heads)
                at = now_ns()
                m = re.search(r"/runtime/invocation/([^/]+)/(response|error)$", self.path)
                if m:
                    status = None
                    if m.group(2) == "response":
                        try:
                            status = json.loads(body).get("statusCode")
                        except ValueError:
                            status = None
                    else:
                        status = "error"
                    with api.cond:
                        api.answers[m.group(1)] = (at, status, body)
                        api.cond.notify_all()
                elif self.path.endswith("/runtime/init/error"):
                    with api.cond:
                        api.answers["init"] = (at, "init error", body)
                        api.cond.notify_all()
                self.reply(202, b'{"status":"OK"}')

            def reply(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a killed process resets its connection: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def queue(self, event: bytes) -> str:
        rid = str(uuid.uuid4())
        self.events.put((rid, event))
        return rid

    def wait(self, rid, timeout=30):
        """(ns the event was handed out, ns answered, status, body) of one invocation."""
        with self.cond:
            ok = self.cond.wait_for(lambda: rid in self.answers or "init" in self.answers, timeout)
            if not ok:
                raise RuntimeError(f"no answer to {rid} within {timeout}s")
            if "init" in self.answers:
                raise RuntimeError(f"init error: {self.answers['init'][2][:300]!r}")
            at, status, body = self.answers[rid]
            return self.sent.get(rid), at, status, body

    def close(self):
        self.events.put(None)
        self.server.shutdown()
        self.server.server_close()
