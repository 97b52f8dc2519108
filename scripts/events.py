#!/usr/bin/env python3
"""Lists the latest events the portal published on the local EventBridge bus (moto),
newest first: detail type, time and detail.

make dev creates the bus (EVENT_BUS_NAME, default portal-local-events) with a rule that
copies every event of source serial-portal to the SQS queue "<bus>-published"; this reads
that queue without taking anything off it.

Usage: .tools/venv/bin/python scripts/events.py [N]        (or: make events [N=20])
Reads http://127.0.0.1:5005 (the `make dev` moto) unless MOTO_URL says otherwise.
"""

import json
import os
import sys

import boto3
import botocore.exceptions

MOTO_URL = os.environ.get("MOTO_URL", "http://127.0.0.1:5005").rstrip("/")
BUS = os.environ.get("EVENT_BUS_NAME", "portal-local-events")


def published():
    sqs = boto3.client(
        "sqs",
        endpoint_url=MOTO_URL,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    try:
        url = sqs.get_queue_url(QueueName=f"{BUS}-published")["QueueUrl"]
    except botocore.exceptions.EndpointConnectionError:
        sys.exit(f"cannot reach {MOTO_URL}: is the local stack running? (make dev; or set MOTO_URL)")
    except botocore.exceptions.ClientError:
        sys.exit(f"no queue {BUS}-published in {MOTO_URL}: make dev creates it with the bus")
    seen = {}
    # Each receive returns at most 10 messages; visibility 0 leaves them on the queue.
    for _ in range(100):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            break
        for m in fresh:
            seen[m["MessageId"]] = json.loads(m["Body"])
    return sorted(seen.values(), key=lambda e: e.get("time", ""))


def main(argv):
    n = 10
    if len(argv) > 1:
        try:
            n = int(argv[1])
        except ValueError:
            sys.exit(f"usage: {argv[0]} [N]   (N = how many events, default 10)")
    events = published()
    if not events:
        print(f"no event published yet on {BUS} ({MOTO_URL})")
        return
    latest = list(reversed(events))[: max(n, 0)]
    print(f"{len(events)} event(s) on {BUS}; the latest {len(latest)}, newest first:")
    for i, e in enumerate(latest, 1):
        print()
        print(f"#{i}  {e.get('detail-type')}  ({e.get('source')}, {e.get('time')})")
        for k, v in (e.get("detail") or {}).items():
            print(f"    {k}: {v}")


if __name__ == "__main__":
    main(sys.argv)
