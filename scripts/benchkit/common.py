"""What every part of the bench uses: paths, the functions, the fixture's constants."""

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository, two levels above this folder
EVENTS = ROOT / "events"
NS = 1_000_000  # ns per ms

FUNCTIONS = ["login", "recover-password", "list-subscriptions", "upgrade-serial", "validate-serial", "license-file",
             "account", "send-pending-mail", "record-payment"]
# Invoked by EventBridge (a schedule, billing's events), not through the HTTP API: their
# answers are JSON objects, not HTTP responses.
EVENT_FUNCTIONS = {"send-pending-mail", "record-payment"}
# MemorySize in template.yaml (the Lambda sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE from it).
MEMORY = {"login": 1024, "recover-password": 1024, "list-subscriptions": 256, "upgrade-serial": 256,
          "validate-serial": 256, "license-file": 256, "account": 1024, "send-pending-mail": 256, "record-payment": 256}
# The queue record-payment sends the events that can never apply to (created in moto by
# scripts/bench.sh, which passes the URL moto answers).
DEAD_LETTER_QUEUE = "portal-local-events-dead-letters"

# Held on every DynamoDB answer while the round trips are counted (a second warm run per route).
ROUND_TRIP_LATENCY_MS = 5

PASSWORD = "Bench-password-2026"
COMPANY = "Comercial Bench SA de CV"


def now_ns():
    return time.perf_counter_ns()
