"""The local API gateway (scripts/gateway.py is its entry point), by concern:

  routes.py   the HttpApi routes of template.yaml, and the route of a request
  event.py    the API Gateway HTTP API v2 event of a request
  invoke.py   the call to watch's Invoke API, and the function's answer as HTTP
  stream.py   the table's stream triggers (send-pending-mail), as Lambda polls them
  server.py   the HTTP server: reads requests, writes answers, logs one line each
  cli.py      the command line: flags, --list-routes, start-up
  common.py   what several of them use: the hop-by-hop headers, the log line
"""
