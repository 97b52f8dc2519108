#!/usr/bin/env python3
"""`make bench-keys`: what each place for the answer-signing key costs a validation,
measured against moto (its KMS has no Ed25519 key spec, so KMS `Sign` is timed with an
ECC_NIST_P256 key, the nearest it offers: the round trip, not the curve, dominates).

- KMS `Sign`: the key never leaves AWS; one call per answer.
- Secrets Manager `GetSecretValue`: one call per instance (every 5 minutes after), then
  the answer is signed in memory (Ed25519, microseconds).

Usage: bench_keys.py --moto URL [--runs N]. Prints a Markdown table.
"""
import argparse
import statistics
import time

import boto3


def timed(fn, runs):
    fn()  # connection and first-call setup out of the figures
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moto", required=True)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    common = dict(endpoint_url=args.moto, region_name="us-east-1", aws_access_key_id="local",
                  aws_secret_access_key="local")
    kms = boto3.client("kms", **common)
    sm = boto3.client("secretsmanager", **common)
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    name = f"bench-keys-{int(time.time())}"
    sm.create_secret(Name=name, SecretString='{"signer":"k","keys":[]}')
    message = b"x" * 400  # about the size of an answer's JWS signing input
    sign = timed(lambda: kms.sign(KeyId=key, Message=message, MessageType="RAW",
                                  SigningAlgorithm="ECDSA_SHA_256"), args.runs)
    read = timed(lambda: sm.get_secret_value(SecretId=name), args.runs)
    print("| where the key lives | call | when | p50 | p99 |")
    print("| --- | --- | --- | ---: | ---: |")
    print(f"| KMS (`Sign`) | per answer | every validation | {sign[0]:.2f} ms | {sign[1]:.2f} ms |")
    print(f"| Secrets Manager (`GetSecretValue`) | per instance | first validation, then every 5 min "
          f"| {read[0]:.2f} ms | {read[1]:.2f} ms |")
    print(f"\n{args.runs} calls each against moto at {args.moto} through boto3 (Python client overhead "
          "included in both); `make bench` has the validation route's own figures.")


if __name__ == "__main__":
    main()
