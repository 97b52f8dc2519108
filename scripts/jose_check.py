#!/usr/bin/env python3
"""Verifies a serial-portal license with an off-the-shelf JOSE library and the JWKS alone.

The proof that nothing of the portal's own is needed to check an answer: joserfc (with
`cryptography` for Ed25519) reads the JWKS of `GET /.well-known/jwks.json`, picks the key by
the header's `kid`, verifies the EdDSA signature and checks `iss` ("serial-portal") and `exp`
(60 s of clock skew, as the Rust verifier in verifier/).

Usage: jose_check.py --jwks FILE LICENSE
  LICENSE: the compact JWS, @FILE, or - (standard input); either the bare JWS or a JSON
  object with a "license" field (a whole validation answer, or an offline license file).
Prints the verified payload (JSON, keys sorted) and exits 0; or prints why it refuses, one
line on standard error, and exits 1. Usage errors (unreadable files included) exit 2.

Needs the pip package joserfc (pinned in scripts/tools.sh, in .tools/venv).
"""

import argparse
import json
import sys
import warnings

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ISSUER = "serial-portal"
CLOCK_SKEW_SECS = 60
STATUSES = ["active", "expired", "superseded", "inactive"]


def read_arg(arg: str) -> str:
    if arg == "-":
        return sys.stdin.read()
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            return f.read()
    return arg


def license_of(text: str) -> str:
    text = text.strip()
    if not text.startswith("{"):
        return text
    value = json.loads(text)
    if not isinstance(value, dict) or not isinstance(value.get("license"), str):
        raise ValueError('a JSON object without a string "license" field')
    return value["license"].strip()


def verify(jws: str, jwks: dict) -> dict:
    key_set = KeySet.import_key_set(jwks)
    with warnings.catch_warnings():
        # The format is fixed to "alg": "EdDSA" (RFC 8037); joserfc warns that RFC 9864 names
        # the same Ed25519 signature "Ed25519". A name, not a weakness.
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        token = jwt.decode(jws, key_set, algorithms=["EdDSA"])
    if token.header.get("alg") != "EdDSA" or not token.header.get("kid"):
        raise ValueError('the header needs "alg": "EdDSA" and a "kid"')
    required = {"essential": True}
    claims = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECS,
        iss={"essential": True, "value": ISSUER},
        exp=required,
        iat=required,
        serial=required,
        system=required,
        version=required,
        users=required,
        company=required,
        status={"essential": True, "values": STATUSES},
    )
    claims.validate(token.claims)
    return token.claims


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jwks", required=True, metavar="FILE", help="the JWKS (/.well-known/jwks.json)")
    parser.add_argument("license", metavar="LICENSE", help="the JWS, @FILE or - (stdin)")
    args = parser.parse_args()
    try:
        with open(args.jwks, encoding="utf-8") as f:
            jwks_text = f.read()
        text = read_arg(args.license)
    except OSError as e:
        parser.error(f"cannot read: {e}")
    try:
        payload = verify(license_of(text), json.loads(jwks_text))
    except (JoseError, ValueError, TypeError, KeyError) as e:
        reason = " ".join(f"{type(e).__name__}: {e}".split())
        print(f"jose_check: refused: {reason}", file=sys.stderr)
        return 1
    print(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
