"""What every part of the bench uses: paths, the functions, the fixture's constants."""

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository, two levels above this folder
EVENTS = ROOT / "events"
NS = 1_000_000  # ns per ms

FUNCTIONS = ["login", "recover-password", "list-subscriptions", "upgrade-serial", "validate-serial", "send-pending-mail"]
# MemorySize in template.yaml (the Lambda sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE from it).
MEMORY = {"login": 1024, "recover-password": 1024, "send-pending-mail": 256}

PASSWORD = "Bench-password-2026"
COMPANY = "Comercial Bench SA de CV"


def now_ns():
    return time.perf_counter_ns()
