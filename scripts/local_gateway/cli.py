"""The command line: the flags, --list-routes, and the start of the server."""

from __future__ import annotations

import argparse
import urllib.parse
from pathlib import Path

from .common import log
from .invoke import Settings
from .routes import TemplateError, load_routes
from .server import Gateway
from .stream import StreamPoller, load_triggers

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository, two levels above this folder


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
        "--stream-table",
        help="the table whose stream triggers (template.yaml's DynamoDB events) to run, polled like Lambda",
    )
    ap.add_argument("--dynamodb-url", default="http://127.0.0.1:8000", help="DynamoDB Local, for --stream-table")
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
    if args.stream_table:
        triggers = load_triggers(template)
        if triggers:
            StreamPoller(settings, triggers, args.stream_table, args.dynamodb_url).start()
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
