"""The table's stream, read between the measurements as Lambda's event source mapping
reads it, so that the outbox's events leave through send-pending-mail as in AWS and the
retry job's measured runs find the outbox as a deployed stack's would: empty."""

import sys
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from local_gateway.stream import StreamPoller, load_triggers, passes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


class StreamReader:
    """The records added to the table's stream since the last read, filtered by
    send-pending-mail's trigger in template.yaml, as Lambda hands them over."""

    def __init__(self, dynamodb_url, table):
        creds = dict(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
        self.ddb = boto3.client("dynamodb", endpoint_url=dynamodb_url, **creds)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_url, **creds)
        self.table = table
        (self.trigger,) = [t for t in load_triggers(ROOT / "template.yaml") if t.function == "send-pending-mail"]
        self.iterators = {}

    def new_records(self):
        arn = self.ddb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if not arn:
            return []
        records = []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", []):
            sid = shard["ShardId"]
            if sid not in self.iterators:
                self.iterators[sid] = self.streams.get_shard_iterator(
                    StreamArn=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while self.iterators[sid]:
                page = self.streams.get_records(ShardIterator=self.iterators[sid])
                self.iterators[sid] = page.get("NextShardIterator")
                got = [StreamPoller.as_lambda(r, arn) for r in page.get("Records", [])]
                records += [r for r in got if passes(self.trigger, r)]
                if not got:
                    break
        return records

    def batches(self):
        records = self.new_records()
        size = self.trigger.batch_size
        return [{"Records": records[i:i + size]} for i in range(0, len(records), size)]
