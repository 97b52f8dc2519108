"""The table's stream triggers of template.yaml, as Lambda's event source mapping runs
them: DynamoDB Local's stream read from the start of each shard, its records passed
through the trigger's FilterCriteria, and each batch invoked through watch's Invoke API
as `{"Records": [...]}`. Under `make dev` and `make load` this is how the outbox's events
reach the bus (`send-pending-mail`), as they do in AWS."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from pathlib import Path

import boto3
import yaml

from .common import log
from .invoke import InvokeError, Settings, invoke
from .routes import _TemplateLoader  # the template's YAML, its short tags kept as {"!Tag": value}


@dataclasses.dataclass
class Trigger:
    function: str
    batch_size: int
    patterns: list[dict]


def load_triggers(template: Path, table_resource: str = "PortalTable") -> list[Trigger]:
    """The functions with a DynamoDB event on the table's stream, with their filters."""
    doc = yaml.load(template.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    triggers = []
    for resource in (doc.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        binary = ((resource.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            p = event.get("Properties") or {}
            if p.get("Stream") != {"!GetAtt": f"{table_resource}.StreamArn"}:
                continue
            filters = ((p.get("FilterCriteria") or {}).get("Filters")) or []
            patterns = [json.loads(f["Pattern"]) for f in filters]
            triggers.append(Trigger(binary, int(p.get("BatchSize", 100)), patterns))
    return triggers


def matches(pattern, value) -> bool:
    """Lambda's event filtering, for the forms the template uses: an object matches
    field by field, a list of values matches one of them."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return pattern == value


def passes(trigger: Trigger, record: dict) -> bool:
    return not trigger.patterns or any(matches(p, record) for p in trigger.patterns)


class StreamReader:
    """The records added to a table's stream since the last read, as Lambda hands them
    over, each shard from its start (TRIM_HORIZON) on the first read."""

    def __init__(self, table: str, endpoint: str):
        region = os.environ.get("AWS_REGION", "us-east-1")
        creds = dict(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        )
        self.table = table
        self.ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region, **creds)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region, **creds)
        self.iterators: dict[str, str | None] = {}  # shard id -> next iterator (None: closed and read)

    def new_records(self) -> list[dict]:
        arn = self.ddb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if not arn:
            return []
        records = []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", []):
            sid = shard["ShardId"]
            if sid not in self.iterators:
                self.iterators[sid] = self.streams.get_shard_iterator(
                    StreamArn=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            # An open shard always answers with a next iterator: read until a page is empty.
            while self.iterators[sid]:
                page = self.streams.get_records(ShardIterator=self.iterators[sid])
                self.iterators[sid] = page.get("NextShardIterator")
                got = page.get("Records", [])
                records += [as_lambda(r, arn) for r in got]
                if not got:
                    break
        return records


def as_lambda(record: dict, arn: str) -> dict:
    """A GetRecords record as Lambda hands it over: the same fields, the time in epoch
    seconds, and the stream's ARN."""
    r = dict(record)
    change = dict(r.get("dynamodb", {}))
    t = change.get("ApproximateCreationDateTime")
    if hasattr(t, "timestamp"):
        change["ApproximateCreationDateTime"] = t.timestamp()
    r["dynamodb"] = change
    r["eventSourceARN"] = arn
    return r


def batches(trigger: Trigger, records: list[dict]) -> list[dict]:
    """The records that pass the trigger's filter, in events of at most its batch size."""
    chosen = [r for r in records if passes(trigger, r)]
    return [{"Records": chosen[i : i + trigger.batch_size]} for i in range(0, len(chosen), trigger.batch_size)]


class StreamPoller(threading.Thread):
    """Reads the table's stream every `interval` seconds and invokes the triggers."""

    def __init__(self, settings: Settings, triggers: list[Trigger], table: str, endpoint: str, interval: float = 0.5):
        super().__init__(name="stream", daemon=True)
        self.settings, self.triggers, self.table, self.interval = settings, triggers, table, interval
        self.reader = StreamReader(table, endpoint)

    def run(self) -> None:
        log(f"stream of {self.table}: {', '.join(t.function for t in self.triggers)}")
        while True:
            try:
                self.poll()
            except Exception as e:  # the table may not exist yet, or DynamoDB Local restarts
                log(f"stream of {self.table}: {e.__class__.__name__}: {e}")
                time.sleep(2)
            time.sleep(self.interval)

    def poll(self) -> None:
        records = self.reader.new_records()
        for trigger in self.triggers:
            for event in batches(trigger, records):
                self.deliver(trigger, event)

    def deliver(self, trigger: Trigger, event: dict) -> None:
        n = len(event["Records"])
        try:
            answer = invoke(self.settings, trigger.function, event)
            log(f"stream -> {trigger.function}: {n} record(s): {answer.decode(errors='replace')[:300]}")
        except InvokeError as e:
            # What the function did not take stays in the outbox for its schedule.
            log(f"stream -> {trigger.function}: {n} record(s) not delivered: {e}")
