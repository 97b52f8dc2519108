"""HTTP bits: a head and a body read off a buffered socket reader."""

from .common import now_ns


def read_head(rfile, arrived=None):
    """Reads an HTTP head (start line + headers) from a buffered reader; None at EOF.
    `arrived`, a list, gets the time its first line came in: when the kernel received it,
    where the reader knows (`StampedReader`), else when it was read."""
    lines = []
    while True:
        line = rfile.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if not lines:
                continue
            return lines
        if not lines and arrived is not None:
            arrived.append(getattr(rfile, "line_arrived", None) or now_ns())
        lines.append(line)


def headers_of(lines):
    out = {}
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        out[k.strip().lower()] = v.strip()
    return out


def read_body(rfile, headers, until_close=False):
    """The raw body bytes (chunked framing kept as is) and the decoded body."""
    if "content-length" in headers:
        data = rfile.read(int(headers["content-length"]))
        return data, data
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw, body = bytearray(), bytearray()
        while True:
            size_line = rfile.readline()
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    t = rfile.readline()
                    raw += t
                    if t in (b"\r\n", b"\n", b""):
                        return bytes(raw), bytes(body)
            chunk = rfile.read(size + 2)
            raw += chunk
            body += chunk[:size]
    if until_close:
        data = rfile.read()
        return data, data
    return b"", b""
