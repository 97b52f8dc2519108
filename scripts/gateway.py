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

The code is in scripts/local_gateway/ (its __init__.py lists the modules); this file
is the entry point.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # no __pycache__ in scripts/ (the package is imported from here)

# The package's names, for whoever imports this module (scripts/gateway_test.py).
from local_gateway.cli import ROOT, main, parse_args  # noqa: E402,F401
from local_gateway.common import HOP_BY_HOP, log  # noqa: E402,F401
from local_gateway.event import build_event  # noqa: E402,F401
from local_gateway.invoke import InvokeError, Settings, http_response, invoke  # noqa: E402,F401
from local_gateway.routes import Route, TemplateError, find_route, load_routes  # noqa: E402,F401
from local_gateway.server import MAX_BODY, Gateway, Handler  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(main())
