#!/usr/bin/env python3
"""The local API gateway: the portal's HTTP API at its production paths, in front of
`cargo lambda watch`.

`cargo lambda watch` serves each function at /lambda-url/<function><route> and builds
every event with routeKey "$default", no pathParameters, sourceIp "127.0.0.1" and
userAgent "cargo-lambda", whoever calls. This server answers as API Gateway (HTTP API,
payload format 2.0) does instead:

  - the routes are the HttpApi events of template.yaml's AWS::Serverless::Function
    resources (a specific method wins over ANY on the same path; a literal segment
    over a {param}, a {param} over a {greedy+});
  - each request becomes a version 2.0 event with the real routeKey, pathParameters
    (percent-decoded), queryStringParameters, cookies, lower-cased headers, the
    caller's address as sourceIp, its User-Agent, a random requestId and timeEpoch;
  - the event goes to watch's Invoke API (POST <watch>/2015-03-31/functions/<binary>/
    invocations), so the functions are still rebuilt on change, and the function's
    answer becomes the HTTP response;
  - no route: 404 {"message":"Not Found"}; the Invoke API unreachable (after waiting
    --connect-wait seconds for it to come up) or the function failing: 502
    {"message":"Internal Server Error"}; a body over 10 MB: 413.

The function name for the Invoke API is the cargo binary `sam build` builds:
Metadata.BuildProperties.Binary, or else the package at the function's CodeUri.

One line per request on stderr: caller, method, path (no query string), status, time.
Bodies and headers are never logged.

Usage: .tools/venv/bin/python scripts/gateway.py [--host H] [--port P]
           [--invoke-url URL] [--template PATH] [--connect-wait S] [--invoke-timeout S]
       .tools/venv/bin/python scripts/gateway.py --list-routes
Needs Python 3.11 and PyYAML (in the project venv, .tools/venv).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import http.client
import ipaddress
import json
import secrets
import socket
import sys
import time
import tomllib
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - reported once, at start
    sys.exit("gateway: PyYAML is missing; run with .tools/venv/bin/python (scripts/tools.sh installs it)")

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
ACCOUNT_ID = "123456789012"
API_ID = "local"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Hop-by-hop headers: between the caller and this server only, never in the event or
# copied from the function's answer (this server sets Content-Length itself).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
NOT_FOUND = (404, {"message": "Not Found"})
BAD_GATEWAY = (502, {"message": "Internal Server Error"})
TOO_LARGE = (413, {"message": "Request Entity Too Large"})
BAD_REQUEST = (400, {"message": "Bad Request"})


def _compact(doc) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def log(msg: str) -> None:
    sys.stderr.write(f"[gateway] {msg}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- routes from the template


class TemplateError(Exception):
    pass


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...)."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    # The value is kept as {"!Tag": value}: routes never depend on it.
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"!" + suffix: value}


_TemplateLoader.add_multi_constructor("!", _any_tag)


@dataclasses.dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # "/subscriptions/{serial}/upgrade", or "" for $default
    function: str  # the binary watch knows the function by
    segments: tuple[tuple[str, str], ...]  # ("lit", text) | ("param", name) | ("greedy", name)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}" if self.path else "$default"

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        """Path parameters (decoded) when the request path matches, else None."""
        params: dict[str, str] = {}
        for i, (kind, text) in enumerate(self.segments):
            if kind == "greedy":
                rest = raw_segments[i:]
                if not rest or rest == [""]:
                    return None
                params[text] = urllib.parse.unquote("/".join(rest))
                return params
            if i >= len(raw_segments):
                return None
            seg = raw_segments[i]
            if kind == "lit":
                if urllib.parse.unquote(seg) != text:
                    return None
            else:
                if seg == "":
                    return None
                params[text] = urllib.parse.unquote(seg)
        return params if len(raw_segments) == len(self.segments) else None

    def rank(self) -> tuple:
        """Higher is more specific: literal > {param} > {greedy+}, segment by segment,
        then a specific method over ANY."""
        weight = {"lit": 2, "param": 1, "greedy": 0}
        return (tuple(weight[k] for k, _ in self.segments), self.method != "ANY")


def _segments(path: str) -> tuple[tuple[str, str], ...]:
    out = []
    parts = path.split("/")[1:]
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                if i != len(parts) - 1:
                    raise TemplateError(f"greedy path variable not at the end of {path}")
                out.append(("greedy", name[:-1]))
            else:
                out.append(("param", name))
        else:
            out.append(("lit", part))
    return tuple(out)


def _function_name(logical_id: str, resource: dict, code_uri_default, template_dir: Path) -> str:
    """The cargo binary of a function, as `sam build` (BuildMethod rust-cargolambda) picks it."""
    props = (resource.get("Metadata") or {}).get("BuildProperties") or {}
    binary = props.get("Binary")
    if isinstance(binary, str) and binary:
        return binary
    code_uri = (resource.get("Properties") or {}).get("CodeUri", code_uri_default)
    if isinstance(code_uri, str):
        manifest = template_dir / code_uri / "Cargo.toml"
        if manifest.is_file():
            cargo = tomllib.loads(manifest.read_text(encoding="utf-8"))
            bins = [b.get("name") for b in cargo.get("bin", []) if b.get("name")]
            if len(bins) == 1:
                return bins[0]
            name = (cargo.get("package") or {}).get("name")
            if isinstance(name, str) and name and not bins:
                return name
    raise TemplateError(
        f"{logical_id}: cannot tell its cargo binary (no Metadata.BuildProperties.Binary, "
        f"and CodeUri {code_uri!r} is not a package with one binary)"
    )


def load_routes(template_path: Path) -> list[Route]:
    try:
        doc = yaml.load(template_path.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    except (OSError, yaml.YAMLError) as e:
        raise TemplateError(f"cannot read {template_path}: {e}") from e
    if not isinstance(doc, dict):
        raise TemplateError(f"{template_path} is not a template")
    code_uri_default = (((doc.get("Globals") or {}).get("Function")) or {}).get("CodeUri")
    routes: list[Route] = []
    seen: dict[str, str] = {}
    for logical_id, res in (doc.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        events = (res.get("Properties") or {}).get("Events") or {}
        http_events = [
            (name, ev.get("Properties") or {})
            for name, ev in events.items()
            if isinstance(ev, dict) and ev.get("Type") == "HttpApi"
        ]
        if not http_events:
            continue
        function = _function_name(logical_id, res, code_uri_default, template_path.parent)
        for ev_name, p in http_events:
            method, path = p.get("Method"), p.get("Path")
            if method is None and path is None:
                route = Route("ANY", "", function, ())  # SAM's $default route
            elif isinstance(method, str) and isinstance(path, str) and path.startswith("/"):
                m = method.upper()
                route = Route(m, path, function, _segments(path))
            else:
                raise TemplateError(f"{logical_id}.Events.{ev_name}: Method and Path must both be given")
            if route.key in seen and seen[route.key] != function:
                raise TemplateError(f"route {route.key} given to both {seen[route.key]} and {function}")
            if route.key not in seen:
                seen[route.key] = function
                routes.append(route)
    if not routes:
        raise TemplateError(f"{template_path} declares no HttpApi routes")
    return routes


def find_route(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    raw_segments = raw_path.split("/")[1:]
    best = None
    for r in routes:
        if not r.path or (r.method != "ANY" and r.method != method):
            continue
        params = r.match(raw_segments)
        if params is not None and (best is None or r.rank() > best[0].rank()):
            best = (r, params)
    if best is None:
        default = next((r for r in routes if not r.path), None)
        if default is not None:
            return default, {}
    return best


# ---------------------------------------------------------------- the event


def _request_id() -> str:
    # Same shape as API Gateway's (e.g. "JKJaXmPLvHcESHA="): 10 random bytes in base64.
    return base64.b64encode(secrets.token_bytes(10)).decode()


def _trace_id(now: float) -> str:
    return f"Root=1-{int(now):08x}-{secrets.token_hex(12)}"


def _api_time(now: float) -> str:
    t = datetime.fromtimestamp(now, timezone.utc)
    return f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"


def build_event(
    *,
    route: Route,
    params: dict[str, str],
    method: str,
    target: str,
    protocol: str,
    header_pairs: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    server_port: int,
) -> tuple[dict, str]:
    """The API Gateway HTTP API v2 event of one request, and its requestId."""
    now = time.time()
    raw_path, _, raw_query = target.partition("?")
    raw_query = raw_query.partition("#")[0]

    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_pairs:
        lname = name.lower()
        if lname in HOP_BY_HOP:
            continue
        if lname == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[lname] = f"{headers[lname]},{value}" if lname in headers else value
    if "transfer-encoding" in {n.lower() for n, _ in header_pairs}:
        headers["content-length"] = str(len(body))
    # What API Gateway adds on its way in.
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    headers["x-forwarded-port"] = str(server_port)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault("x-amzn-trace-id", _trace_id(now))

    query: dict[str, str] = {}
    for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v

    domain = headers.get("host", "127.0.0.1")
    if domain.startswith("["):
        domain = domain[1 : domain.find("]")] if "]" in domain else domain
    else:
        domain = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    try:
        ipaddress.ip_address(domain)
        prefix = domain
    except ValueError:
        prefix = domain.split(".", 1)[0]

    request_id = _request_id()
    event: dict = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": prefix,
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.key,
        "stage": "$default",
        "time": _api_time(now),
        "timeEpoch": int(now * 1000),
    }
    if params:
        event["pathParameters"] = params
    if body:
        try:
            event["body"] = body.decode("utf-8")
            event["isBase64Encoded"] = False
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event, request_id


# ---------------------------------------------------------------- the invoke and the answer


class InvokeError(Exception):
    pass


@dataclasses.dataclass
class Settings:
    invoke_url: urllib.parse.SplitResult
    connect_wait: float
    invoke_timeout: float


def invoke(settings: Settings, function: str, event: dict) -> bytes:
    """The function's result through watch's Invoke API. A refused connection (watch not
    up yet) is retried for connect_wait seconds: nothing was sent, so it is safe."""
    u = settings.invoke_url
    path = f"{u.path.rstrip('/')}/2015-03-31/functions/{urllib.parse.quote(function, safe='')}/invocations"
    payload = json.dumps(event).encode()
    deadline = time.monotonic() + settings.connect_wait
    while True:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=settings.invoke_timeout)
        try:
            conn.request("POST", path, body=payload, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        except ConnectionRefusedError as e:
            if time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            raise InvokeError(f"{u.netloc} refuses connections (is cargo lambda watch running?)") from e
        except (OSError, http.client.HTTPException) as e:
            raise InvokeError(f"{u.netloc}: {e.__class__.__name__}: {e}") from e
        finally:
            conn.close()
        if resp.status != 200 or resp.getheader("x-amz-function-error"):
            raise InvokeError(f"the Invoke API answered {resp.status}{_error_summary(data)}")
        return data


def _error_summary(data: bytes) -> str:
    """The error's type or title (never the whole answer: it may quote the request)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return ""
    if isinstance(doc, dict):
        for key in ("errorType", "title"):
            if isinstance(doc.get(key), str):
                return f" ({doc[key][:120]})"
    return ""


def http_response(result: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body from the function's result, as API Gateway reads a
    payload 2.0 answer: an object with statusCode is a structured response; any other
    JSON is the body of a 200 application/json."""
    try:
        doc = json.loads(result)
    except ValueError as e:
        raise InvokeError("the function's result is not JSON") from e
    if not (isinstance(doc, dict) and "statusCode" in doc):
        return 200, [("content-type", "application/json")], result
    try:
        status = int(doc["statusCode"])
    except (TypeError, ValueError) as e:
        raise InvokeError(f"statusCode {doc['statusCode']!r} is not a number") from e
    if not 100 <= status <= 599:
        raise InvokeError(f"statusCode {status} is out of range")
    headers: list[tuple[str, str]] = []
    single = doc.get("headers") or {}
    for name, value in single.items():
        headers.append((str(name), _header_value(value)))
    # Payload 2.0 has only `headers`; lambda_http also fills multiValueHeaders with the
    # same names, so these only add names `headers` lacks.
    taken = {n.lower() for n in single}
    for name, values in (doc.get("multiValueHeaders") or {}).items():
        if str(name).lower() in taken:
            continue
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), _header_value(value)))
    for cookie in doc.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body = doc.get("body")
    if body is None:
        data = b""
    elif doc.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(body), validate=True)
        except ValueError as e:
            raise InvokeError("isBase64Encoded body is not base64") from e
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode()
    headers = [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP and n.lower() != "content-length"]
    return status, headers, data


def _header_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\r", " ").replace("\n", " ")


# ---------------------------------------------------------------- the server


class Gateway(ThreadingHTTPServer):
    daemon_threads = True

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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="The portal's API at its production paths, in front of cargo lambda watch.")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    ap.add_argument(
        "--invoke-url", default="http://127.0.0.1:9000", help="cargo lambda watch (default http://127.0.0.1:9000)"
    )
    ap.add_argument("--template", default=str(ROOT / "template.yaml"), help="the SAM template (default template.yaml)")
    ap.add_argument(
        "--connect-wait",
        type=float,
        default=10.0,
        help="seconds a request waits for the Invoke API to accept connections before a 502 (default 10)",
    )
    ap.add_argument(
        "--invoke-timeout",
        type=float,
        default=600.0,
        help="seconds an invoke may take; the first call of a function under watch builds it (default 600)",
    )
    ap.add_argument(
        "--list-routes",
        action="store_true",
        help="print the routes (METHOD PATH FUNCTION, ANY only where a path has no other) and exit",
    )
    args = ap.parse_args(argv)
    u = urllib.parse.urlsplit(args.invoke_url)
    if u.scheme != "http" or not u.hostname:
        ap.error(f"--invoke-url must be an http:// URL, not {args.invoke_url!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    template = Path(args.template)
    try:
        routes = load_routes(template)
    except TemplateError as e:
        log(f"ERROR: {e}")
        return 1
    if args.list_routes:
        specific = {r.path for r in routes if r.method != "ANY"}
        for r in routes:
            if r.method != "ANY" or r.path not in specific:
                print(f"{r.method} {r.path or '$default'} {r.function}")
        return 0
    settings = Settings(urllib.parse.urlsplit(args.invoke_url), args.connect_wait, args.invoke_timeout)
    try:
        server = Gateway((args.host, args.port), routes, settings)
    except OSError as e:
        log(f"ERROR: cannot listen on {args.host}:{args.port}: {e.strerror or e}")
        return 1
    port = server.server_address[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    try:
        shown_template = template.resolve().relative_to(ROOT)
    except ValueError:
        shown_template = template
    log(f"listening on http://{shown}:{port}, {len(routes)} routes from {shown_template}, invoking {args.invoke_url}")
    for r in sorted(routes, key=lambda r: (r.path, r.method == "ANY", r.method)):
        log(f"  {r.key:<40} -> {r.function}")
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
