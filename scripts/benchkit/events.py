"""The events the bootstraps get: events/*.json with their placeholders filled in."""

import json
import re

from .common import COMPANY, EVENTS, PASSWORD


def event(name, **vars):
    """An API Gateway HTTP API v2 event from events/<name>.json, placeholders filled in."""
    text = (EVENTS / f"{name}.json").read_text()
    for k, v in vars.items():
        text = text.replace("{{" + k + "}}", v)
    if "{{" in text:
        raise ValueError(f"events/{name}.json: placeholder left: {re.findall(r'{{[A-Z_]+}}', text)}")
    return json.loads(text)


def with_body(ev, body):
    ev = dict(ev)
    ev["body"] = body
    return ev


def encode(ev):
    return json.dumps(ev).encode()


def cold_events(fx_token=None):
    """Per function: the store-free first request (and what it answers)."""
    login = event("login", EMAIL="ana.bench@example.com", PASSWORD=PASSWORD)
    reset = event("password-reset", EMAIL="nobody.bench@example.com")
    return {
        "hello": (event("subscriptions-no-token"), 200),
        "login": (with_body(login, "{"), 400),
        "recover-password": (with_body(reset, "{"), 400),
        "list-subscriptions": (event("subscriptions-no-token"), 401),
        "upgrade-serial": (event("upgrade-no-token", SERIAL="SKSNWR4TQD", TERMS_VERSION="2022-10"), 401),
        "validate-serial": (event("validate-bad-check-character", COMPANY=COMPANY), 400),
        "send-pending-mail": ({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, None),
    }
