#!/usr/bin/env python3
"""Tests of the local API gateway (scripts/gateway.py), without Rust: a small fake of
`cargo lambda watch`'s Invoke API records each event and answers a canned result; the
gateway runs as its own process, with the real template.yaml, in front of it; requests
come from two loopback addresses (127.0.0.1 and 127.0.0.2).

Run: .tools/venv/bin/python scripts/gateway_test.py
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
import gateway  # noqa: E402  (the module under test, beside this file)

INVOKE_PREFIX = "/2015-03-31/functions/"


class FakeInvoke(BaseHTTPRequestHandler):
    """watch's Invoke API: records (function, event), answers FakeInvoke.answer."""

    calls: list[tuple[str, dict]] = []
    answer: tuple[int, object] = (200, {"statusCode": 200, "body": "{}"})
    lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        event = json.loads(self.rfile.read(length))
        name = self.path[len(INVOKE_PREFIX) :].split("/", 1)[0] if self.path.startswith(INVOKE_PREFIX) else "?"
        with FakeInvoke.lock:
            FakeInvoke.calls.append((name, event))
            status, doc = FakeInvoke.answer
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_alias_works() -> bool:
    """127.0.0.2 reaches 127.0.0.1 on Linux (all of 127.0.0.0/8 is loopback), not everywhere."""
    with socket.socket() as srv, socket.socket() as cli:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        try:
            cli.bind(("127.0.0.2", 0))
            cli.settimeout(1)
            cli.connect(srv.getsockname())
        except OSError:
            return False
        conn, addr = srv.accept()
        conn.close()
        return addr[0] == "127.0.0.2"


def start_gateway(invoke_port: int, log_file, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "gateway.py"),
            "--port",
            str(port),
            "--invoke-url",
            f"http://127.0.0.1:{invoke_port}",
            "--template",
            str(ROOT / "template.yaml"),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("gateway did not listen within 10 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeInvoke)
        threading.Thread(target=cls.fake.serve_forever, daemon=True).start()
        cls.log = tempfile.TemporaryFile()
        cls.proc, cls.port = start_gateway(cls.fake.server_address[1], cls.log, "--connect-wait", "0.3")

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)
        cls.fake.shutdown()
        cls.fake.server_close()
        cls.log.close()

    def setUp(self):
        with FakeInvoke.lock:
            FakeInvoke.calls.clear()
            FakeInvoke.answer = (200, {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"})

    # ---- helpers

    def request(self, method, target, body=None, headers=None, source="127.0.0.1", port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=10, source_address=(source, 0))
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            pairs = headers.items() if isinstance(headers, dict) else (headers or [])
            for name, value in pairs:
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def invoked(self) -> tuple[str, dict]:
        with FakeInvoke.lock:
            self.assertEqual(len(FakeInvoke.calls), 1, FakeInvoke.calls)
            return FakeInvoke.calls[0]

    def gateway_log(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    # ---- the routes

    def test_template_routes_and_function_names(self):
        routes = {r.key: r.function for r in gateway.load_routes(ROOT / "template.yaml")}
        expected = {
            "POST /login": "login",
            "ANY /login": "login",
            "POST /logout": "login",
            "POST /password-reset": "recover-password",
            "POST /password-reset/confirm": "recover-password",
            "GET /subscriptions": "list-subscriptions",
            "POST /subscriptions/{serial}/upgrade": "upgrade-serial",
            "ANY /subscriptions/{serial}/upgrade": "upgrade-serial",
            "POST /serials/{serial}/validate": "validate-serial",
        }
        for key, fn in expected.items():
            self.assertEqual(routes.get(key), fn, key)
        # Every function with routes is a cargo binary under functions/.
        binaries = {p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").is_file()}
        self.assertLessEqual(set(routes.values()), binaries)

    def test_route_key_path_parameters_and_function(self):
        status, _, _ = self.request(
            "POST",
            "/subscriptions/ABC/upgrade",
            b'{"accept_terms":true}',
            {"Content-Type": "application/json", "User-Agent": "gw-test/1"},
        )
        self.assertEqual(status, 200)
        name, ev = self.invoked()
        self.assertEqual(name, "upgrade-serial")
        self.assertEqual(ev["version"], "2.0")
        self.assertEqual(ev["routeKey"], "POST /subscriptions/{serial}/upgrade")
        self.assertEqual(ev["rawPath"], "/subscriptions/ABC/upgrade")
        self.assertEqual(ev["pathParameters"], {"serial": "ABC"})
        self.assertEqual(ev["body"], '{"accept_terms":true}')
        self.assertIs(ev["isBase64Encoded"], False)
        ctx = ev["requestContext"]
        self.assertEqual(ctx["routeKey"], ev["routeKey"])
        self.assertEqual(ctx["stage"], "$default")
        self.assertEqual(ctx["http"]["method"], "POST")
        self.assertEqual(ctx["http"]["path"], "/subscriptions/ABC/upgrade")
        self.assertEqual(ctx["http"]["protocol"], "HTTP/1.1")
        for key in ("accountId", "apiId", "domainName", "domainPrefix", "requestId", "time"):
            self.assertTrue(ctx.get(key), key)
        self.assertLess(abs(ctx["timeEpoch"] - time.time() * 1000), 60_000)
        self.assertRegex(ctx["time"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")

    def test_request_ids_differ(self):
        self.request("GET", "/subscriptions")
        self.request("GET", "/subscriptions")
        with FakeInvoke.lock:
            ids = {ev["requestContext"]["requestId"] for _, ev in FakeInvoke.calls}
        self.assertEqual(len(ids), 2)

    def test_path_parameters_are_percent_decoded(self):
        self.request("POST", "/serials/AB%2DC%20D/validate", b"{}", {"Content-Type": "application/json"})
        name, ev = self.invoked()
        self.assertEqual(name, "validate-serial")
        self.assertEqual(ev["routeKey"], "POST /serials/{serial}/validate")
        self.assertEqual(ev["pathParameters"], {"serial": "AB-C D"})
        self.assertEqual(ev["rawPath"], "/serials/AB%2DC%20D/validate")

    def test_query_string(self):
        self.request("GET", "/subscriptions?plan=license&group_by=system&x=1&x=2&empty=")
        name, ev = self.invoked()
        self.assertEqual(name, "list-subscriptions")
        self.assertEqual(ev["routeKey"], "GET /subscriptions")
        self.assertEqual(ev["rawPath"], "/subscriptions")
        self.assertEqual(ev["rawQueryString"], "plan=license&group_by=system&x=1&x=2&empty=")
        self.assertEqual(
            ev["queryStringParameters"], {"plan": "license", "group_by": "system", "x": "1,2", "empty": ""}
        )
        self.assertNotIn("pathParameters", ev)
        self.assertNotIn("body", ev)

    def test_method_catch_all(self):
        cases = [
            ("GET", "/login", "ANY /login", "login"),
            ("POST", "/login", "POST /login", "login"),
            ("DELETE", "/subscriptions", "ANY /subscriptions", "list-subscriptions"),
            ("GET", "/subscriptions", "GET /subscriptions", "list-subscriptions"),
            ("PUT", "/subscriptions/ABC/upgrade", "ANY /subscriptions/{serial}/upgrade", "upgrade-serial"),
        ]
        for method, path, key, fn in cases:
            with self.subTest(method=method, path=path):
                FakeInvoke.calls.clear()
                self.request(method, path)
                name, ev = self.invoked()
                self.assertEqual((name, ev["routeKey"], ev["requestContext"]["http"]["method"]), (fn, key, method))

    def test_preflight_goes_to_the_function(self):
        FakeInvoke.answer = (200, {"statusCode": 204, "headers": {"cache-control": "no-store"}})
        status, headers, body = self.request(
            "OPTIONS",
            "/subscriptions/ABC/upgrade",
            headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST"},
        )
        self.assertEqual((status, body), (204, b""))
        name, ev = self.invoked()
        self.assertEqual((name, ev["routeKey"]), ("upgrade-serial", "ANY /subscriptions/{serial}/upgrade"))
        names = {n.lower() for n, _ in headers}
        self.assertNotIn("access-control-allow-origin", names)
        self.assertNotIn("content-length", names)

    def test_unknown_route_is_404_without_an_invoke(self):
        for method, path in [
            ("GET", "/admin"),
            ("GET", "/"),
            ("POST", "/subscriptions/A/B/upgrade"),
            ("POST", "/subscriptions//upgrade"),
            ("GET", "/lambda-url/login/login"),
        ]:
            with self.subTest(path=path):
                status, headers, body = self.request(method, path)
                self.assertEqual(status, 404)
                self.assertEqual(json.loads(body), {"message": "Not Found"})
                self.assertIn(("content-type", "application/json"), [(n.lower(), v) for n, v in headers])
        self.assertEqual(FakeInvoke.calls, [])

    # ---- the caller

    def test_source_ip_and_user_agent_are_the_callers(self):
        sources = ["127.0.0.1"] + (["127.0.0.2"] if loopback_alias_works() else [])
        for source in sources:
            with self.subTest(source=source):
                FakeInvoke.calls.clear()
                agent = f"desktop-program/7.0 ({source})"
                self.request("POST", "/login", b"{}", {"User-Agent": agent}, source=source)
                _, ev = self.invoked()
                self.assertEqual(ev["requestContext"]["http"]["sourceIp"], source)
                self.assertEqual(ev["requestContext"]["http"]["userAgent"], agent)
                self.assertEqual(ev["headers"]["user-agent"], agent)
                self.assertEqual(ev["headers"]["x-forwarded-for"], source)
        if len(sources) == 1:
            self.skipTest("127.0.0.2 is not a usable loopback address here")

    def test_headers_cookies_and_no_user_agent(self):
        self.request(
            "GET",
            "/subscriptions",
            headers=[
                ("X-Multi", "a"),
                ("x-multi", "b"),
                ("Authorization", "Bearer t0ken"),
                ("Cookie", "a=1; b=2"),
            ],
        )
        _, ev = self.invoked()
        h = ev["headers"]
        self.assertEqual(h["x-multi"], "a,b")
        self.assertEqual(h["authorization"], "Bearer t0ken")
        self.assertTrue(all(k == k.lower() for k in h))
        self.assertEqual(ev["cookies"], ["a=1", "b=2"])
        self.assertNotIn("cookie", h)
        self.assertEqual(ev["requestContext"]["http"]["userAgent"], "")

    # ---- bodies and answers

    def test_binary_body_round_trip(self):
        blob = bytes(range(256)) * 4
        FakeInvoke.answer = (
            200,
            {
                "statusCode": 200,
                "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(blob[::-1]).decode(),
                "isBase64Encoded": True,
            },
        )
        status, headers, body = self.request(
            "POST", "/login", blob, {"Content-Type": "application/octet-stream"}
        )
        _, ev = self.invoked()
        self.assertIs(ev["isBase64Encoded"], True)
        self.assertEqual(base64.b64decode(ev["body"]), blob)
        self.assertEqual(status, 200)
        self.assertEqual(body, blob[::-1])

    def test_utf8_body_stays_text(self):
        text = '{"company":"Comercial Ruiz, S.A. de C.V. – ñandú"}'
        self.request("POST", "/serials/ABC/validate", text.encode(), {"Content-Type": "application/json"})
        _, ev = self.invoked()
        self.assertEqual((ev["body"], ev["isBase64Encoded"]), (text, False))

    def test_answer_status_headers_and_cookies_pass_through(self):
        problem = {"type": "about:blank", "status": 429, "code": "account_locked"}
        FakeInvoke.answer = (
            200,
            {
                "statusCode": 429,
                "headers": {"content-type": "application/problem+json", "retry-after": "30"},
                "multiValueHeaders": {
                    "content-type": ["application/problem+json"],
                    "retry-after": ["30"],
                    "x-extra": ["1", "2"],
                },
                "cookies": ["s=1; HttpOnly", "t=2"],
                "body": json.dumps(problem),
                "isBase64Encoded": False,
            },
        )
        status, headers, body = self.request("POST", "/login", b"{}", {"Content-Type": "application/json"})
        self.assertEqual(status, 429)
        self.assertEqual(json.loads(body), problem)
        lower = [(n.lower(), v) for n, v in headers]
        self.assertEqual([v for n, v in lower if n == "content-type"], ["application/problem+json"])
        self.assertEqual([v for n, v in lower if n == "retry-after"], ["30"])
        self.assertEqual([v for n, v in lower if n == "x-extra"], ["1", "2"])
        self.assertEqual([v for n, v in lower if n == "set-cookie"], ["s=1; HttpOnly", "t=2"])
        self.assertEqual([v for n, v in lower if n == "content-length"], [str(len(body))])
        self.assertTrue(any(n == "apigw-requestid" for n, _ in lower))

    def test_result_without_status_code_is_a_json_200(self):
        FakeInvoke.answer = (200, {"hello": "world"})
        status, headers, body = self.request("GET", "/subscriptions")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"hello": "world"})
        self.assertIn(("content-type", "application/json"), [(n.lower(), v) for n, v in headers])

    def test_head_has_no_body(self):
        FakeInvoke.answer = (200, {"statusCode": 405, "headers": {"allow": "POST"}, "body": '{"code":"x"}'})
        status, headers, body = self.request("HEAD", "/login")
        self.assertEqual((status, body), (405, b""))
        self.assertIn(("allow", "POST"), [(n.lower(), v) for n, v in headers])

    def test_body_over_10_mb_is_413(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(
                b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % (10 * 1024 * 1024 + 1)
            )
            head = s.recv(4096).decode()
        self.assertTrue(head.startswith("HTTP/1.1 413 "), head)
        self.assertEqual(FakeInvoke.calls, [])

    def test_function_error_is_502(self):
        FakeInvoke.answer = (500, {"errorType": "Panic", "errorMessage": "boom"})
        status, _, body = self.request("POST", "/login", b"{}")
        self.assertEqual((status, json.loads(body)), (502, {"message": "Internal Server Error"}))

    def test_log_has_no_bodies_or_authorization(self):
        self.request(
            "POST",
            "/subscriptions/ABC/upgrade?secret-query=1",
            b'{"password":"body-secret-value"}',
            {"Authorization": "Bearer header-secret-value", "Content-Type": "application/json"},
        )
        deadline = time.monotonic() + 2
        while "/subscriptions/ABC/upgrade 200" not in self.gateway_log() and time.monotonic() < deadline:
            time.sleep(0.02)
        log = self.gateway_log()
        self.assertRegex(log, r"127\.0\.0\.1 POST /subscriptions/ABC/upgrade 200 \d+ms")
        for secret in ("body-secret-value", "header-secret-value", "secret-query"):
            self.assertNotIn(secret, log)


class GatewayWithoutWatchTest(unittest.TestCase):
    def test_invoke_api_down_is_502(self):
        with tempfile.TemporaryFile() as log:
            dead_port = free_port()  # nothing listens there
            proc, port = start_gateway(dead_port, log, "--connect-wait", "0.3")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", "/login", body=b"{}", headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
            finally:
                stop(proc)
            self.assertEqual(resp.status, 502)
            self.assertEqual(json.loads(body), {"message": "Internal Server Error"})
            log.seek(0)
            self.assertIn("refuses connections", log.read().decode())

    def test_bad_template_stops_at_start(self):
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "template.yaml"
            bad.write_text(
                "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      CodeUri: ./\n      Events:\n        E: {Type: HttpApi, Properties: {Method: GET, Path: /x}}\n"
            )
            out = subprocess.run(
                [sys.executable, str(HERE / "gateway.py"), "--port", str(free_port()), "--template", str(bad)],
                capture_output=True,
                text=True,
                timeout=10,
            )
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot tell its cargo binary", out.stderr)


class StreamTriggerTest(unittest.TestCase):
    """The table's stream triggers as the gateway reads them from the real template, and
    Lambda's filtering of the records it hands over."""

    def test_the_outbox_events_trigger_send_pending_mail_and_nothing_else_passes_its_filter(self):
        from local_gateway.stream import load_triggers, passes

        triggers = load_triggers(ROOT / "template.yaml")
        self.assertEqual([t.function for t in triggers], ["send-pending-mail"])
        (trigger,) = triggers

        def record(name, item_type):
            image = {"pk": {"S": "OUTBOX"}, "sk": {"S": "EVENT#x"}, "type": {"S": item_type}}
            return {"eventName": name, "dynamodb": {"NewImage": image}}

        self.assertTrue(passes(trigger, record("INSERT", "pending_event")))
        self.assertFalse(passes(trigger, record("INSERT", "pending_mail")))
        self.assertFalse(passes(trigger, record("MODIFY", "pending_event")))
        self.assertFalse(passes(trigger, {"eventName": "REMOVE", "dynamodb": {}}))


if __name__ == "__main__":
    unittest.main(verbosity=2)
