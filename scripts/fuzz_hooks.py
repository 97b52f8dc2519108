"""Schemathesis hooks of scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

- `cargo lambda watch` turns a body whose content type is text or JSON into the event's
  `body` string; bytes that are not UTF-8 make the emulator itself answer 500 before any
  function runs. Such bytes are still sent, as application/octet-stream, which the
  emulator passes base64-encoded (`isBase64Encoded`): the function gets the same bytes.
- Every answer's status is appended to $FUZZ_STATUS_LOG ("METHOD /path STATUS" a line;
  STATUS is "other:405" for a method the operation does not have, which the checks also
  try), so the run can tell which documented responses the fuzzing reached.
"""

import os

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, (bytes, bytearray)) and (case.media_type or "").startswith("application/json"):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            case.media_type = "application/octet-stream"


@schemathesis.hook
def after_call(context, case, response):
    path = os.environ.get("FUZZ_STATUS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            documented = case.operation.method.upper()
            sent = (getattr(response.request, "method", None) or documented).upper()
            status = str(response.status_code)
            if sent != documented:
                # The checks' tries of other methods (405), and CORS preflights (OPTIONS)
                status = ("OPTIONS:" if sent == "OPTIONS" else "other:") + status
            log.write(f"{documented} {case.operation.path} {status}\n")
