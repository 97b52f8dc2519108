#!/usr/bin/env python3
"""Lists the latest mails sent through the local SES v2 emulator (moto), newest first.

For each mail: recipient(s), subject, every http(s) link in the body, and the serial
numbers named after the word "serie" (as in "número de serie").

Usage: .tools/venv/bin/python scripts/mail.py [N]        (or: make mail [N=20])
Reads http://127.0.0.1:5005 (the `make dev` moto) unless MOTO_URL says otherwise.
Only the standard library is used.
"""

import html
import json
import os
import re
import sys
import urllib.error
import urllib.request
from email import policy
from email.parser import BytesParser

MOTO_URL = os.environ.get("MOTO_URL", "http://127.0.0.1:5005").rstrip("/")

LINK = re.compile(r"""https?://[^\s"'<>]+""")
HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")
# Serial alphabet: digits and A-Z without I, L, O, U; 10 characters, spaces/dashes allowed
# between them. Taken only when it follows "serie" closely.
SYM = "[0-9A-HJKMNP-TV-Z]"
SERIAL = re.compile(
    rf"(?i:serie)([^\n]{{0,60}}?)(?<![0-9A-Za-z])({SYM}(?:[ -]?{SYM}){{9}})(?![0-9A-Za-z])"
)


def fetch():
    url = f"{MOTO_URL}/moto-api/data.json"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except (urllib.error.URLError, OSError) as e:
        sys.exit(
            f"cannot read {url}: {e}\n"
            "is the local stack running? (make dev; or set MOTO_URL to another moto)"
        )


def from_raw(m):
    """A raw (MIME) message as moto keeps it: source, destinations, raw_data."""
    raw = m.get("raw_data") or ""
    msg = BytesParser(policy=policy.default).parsebytes(raw.encode("utf-8", "replace"))
    part = msg.get_body(preferencelist=("html", "plain"))
    body = part.get_content() if part is not None else ""
    dest = m.get("destinations") or [a.strip() for a in str(msg.get("To", "")).split(",") if a]
    return {"to": dest, "subject": str(msg.get("Subject", "")), "body": body}


def messages(data):
    ses = data.get("ses") or {}
    out = []
    for m in ses.get("Message") or []:
        dest = m.get("destinations") or {}
        to = (dest.get("ToAddresses") or []) if isinstance(dest, dict) else list(dest)
        out.append({"to": to, "subject": m.get("subject") or "", "body": m.get("body") or ""})
    for m in ses.get("RawMessage") or []:
        try:
            out.append(from_raw(m))
        except Exception:  # a raw message we cannot parse is still listed
            out.append({"to": m.get("destinations") or [], "subject": "(raw message)", "body": ""})
    return out


def links(body):
    found = []
    for u in HREF.findall(body) + LINK.findall(body):
        u = html.unescape(u).rstrip(".,;:)")
        if u.startswith(("http://", "https://")) and u not in found:
            found.append(u)
    return found


def serials(body):
    """(serial, label) pairs; the label is what stands between "serie" and the serial,
    e.g. "nueva versión" or "anterior"."""
    text = html.unescape(TAG.sub(" ", body))
    found = []
    for label, s in SERIAL.findall(text):
        s = re.sub(r"[ -]", "", s)
        label = " ".join(label.split()).strip(" :.-")
        if s not in [f[0] for f in found]:
            found.append((s, label))
    return found


def main(argv):
    n = 10
    if len(argv) > 1:
        try:
            n = int(argv[1])
        except ValueError:
            sys.exit(f"usage: {argv[0]} [N]   (N = how many mails, default 10)")
    msgs = messages(fetch())
    if not msgs:
        print(f"no mail sent yet ({MOTO_URL})")
        return
    latest = list(reversed(msgs))[: max(n, 0)]
    print(f"{len(msgs)} mail(s) in {MOTO_URL}; the latest {len(latest)}, newest first:")
    for i, m in enumerate(latest, 1):
        print()
        print(f"#{i}  to: {', '.join(m['to']) or '(nobody)'}")
        print(f"    subject: {m['subject']}")
        for u in links(m["body"]):
            print(f"    link: {u}")
        for s, label in serials(m["body"]):
            print(f"    serial: {s}" + (f"  ({label})" if label else ""))


if __name__ == "__main__":
    main(sys.argv)
