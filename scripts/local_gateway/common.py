"""What the gateway's modules share: the hop-by-hop headers and the log line."""

from __future__ import annotations

import sys

# Hop-by-hop headers: between the caller and this server only, never in the event or
# copied from the function's answer (this server sets Content-Length itself).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "expect"}


def log(msg: str) -> None:
    sys.stderr.write(f"[gateway] {msg}\n")
    sys.stderr.flush()
