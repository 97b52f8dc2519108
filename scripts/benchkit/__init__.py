"""The measuring half of `make bench` (scripts/bench.py is its entry point), by concern:

  common.py        paths, the functions and their memory sizes, the fixture's password
  http_wire.py     reading HTTP heads and bodies off a socket
  runtime_api.py   the Lambda Runtime API each bootstrap talks to
  timing_proxy.py  the proxies in front of DynamoDB Local and moto that time each call
  events.py        the API Gateway events of events/*.json
  processes.py     a bootstrap as Lambda runs it: one cold start, one warm run
  fixture.py       accounts and serials loaded with portal-admin
  measure.py       the two commands: report (every measurement) and cold (builds compared)
  tables.py        the tables, and their blocks in BENCHMARKS.md
"""
