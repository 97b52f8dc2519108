"""The events the bootstraps get: events/*.json with their placeholders filled in."""

import json
import re
import uuid

from .common import COMPANY, EVENTS, PASSWORD


def event(name, **vars):
    """An event from events/<name>.json (API Gateway HTTP API v2, or EventBridge under
    eventbridge/), placeholders filled in."""
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


def scheduled():
    """The retry job's schedule (send-pending-mail)."""
    return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def payment(serial, paid_through, malformed=False):
    """A PaymentRecorded event of billing, with a new event id and payment id."""
    name = "eventbridge/payment-recorded-malformed" if malformed else "eventbridge/payment-recorded"
    vars = {"EVENT_ID": str(uuid.uuid4()), "PAYMENT_ID": f"bench-{uuid.uuid4()}", "SERIAL": serial}
    if not malformed:
        vars["PAID_THROUGH"] = paid_through
    return event(name, **vars)


def matches(expect, status, body):
    """Whether an answer is the expected one: an HTTP status (an event function's answer
    has none: None), or, for an event function, fields of its JSON answer."""
    if isinstance(expect, dict):
        try:
            answer = json.loads(body)
        except ValueError:
            return False
        return isinstance(answer, dict) and all(answer.get(k) == v for k, v in expect.items())
    return status == expect


# A well-formed serial that no account has (its check character is right).
ANY_SERIAL = "SKSNWR4TQD"


def cold_events(fx_token=None):
    """Per function: the store-free first request (and what it answers)."""
    login = event("login", EMAIL="ana.bench@example.com", PASSWORD=PASSWORD)
    reset = event("password-reset", EMAIL="nobody.bench@example.com")
    return {
        "hello": (event("subscriptions-no-token"), 200),
        "login": (with_body(login, "{"), 400),
        "recover-password": (with_body(reset, "{"), 400),
        "list-subscriptions": (event("subscriptions-no-token"), 401),
        "upgrade-serial": (event("upgrade-no-token", SERIAL=ANY_SERIAL, TERMS_VERSION="2022-10"), 401),
        "validate-serial": (event("validate-bad-check-character", COMPANY=COMPANY), 400),
        "license-file": (event("license-file-no-token", SERIAL=ANY_SERIAL, INSTALLATION="BENCH-INSTALL-0001"), 401),
        # A bearer that cannot be one of ours: refused before any store read.
        "account": (event("sessions", TOKEN="not-a-token"), 401),
        # No store-free event: its first answer includes the outbox's Query.
        "send-pending-mail": (scheduled(), None),
        # Malformed (paid_through not a date): no store read; sent to the dead-letter queue.
        "record-payment": (payment(ANY_SERIAL, None, malformed=True), {"outcome": "dead_lettered"}),
    }
