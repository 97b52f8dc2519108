"""The invoke through `cargo lambda watch`'s Invoke API, and the function's result
read as API Gateway reads a payload 2.0 answer."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import time
import urllib.parse

from .common import HOP_BY_HOP


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
