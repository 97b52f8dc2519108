"""The API Gateway HTTP API (payload format 2.0) event of one request."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import time
import urllib.parse
from datetime import datetime, timezone

from .common import HOP_BY_HOP
from .routes import Route

ACCOUNT_ID = "123456789012"
API_ID = "local"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
