"""The table's stream, read between the measurements as Lambda's event source mapping
reads it (the local gateway's reader), so that the outbox's events leave through
send-pending-mail as in AWS and the retry job's measured runs find the outbox as a
deployed stack's would: empty."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from local_gateway.stream import StreamReader, batches, load_triggers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


class SendPendingMailStream:
    """The events of send-pending-mail's trigger (template.yaml) added since the last read."""

    def __init__(self, dynamodb_url, table):
        self.reader = StreamReader(table, dynamodb_url)
        (self.trigger,) = [t for t in load_triggers(ROOT / "template.yaml") if t.function == "send-pending-mail"]

    def batches(self):
        return batches(self.trigger, self.reader.new_records())
