# The serial portal's local commands. Tools install into .tools/, runtime state goes
# to .local/ (both ignored by git). See scripts/ for what each target runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV_BIN := $(CURDIR)/.tools/venv/bin
FUNCTIONS := $(notdir $(wildcard functions/*))
N ?= 10

.PHONY: help dev test fuzz load mail events tools build web bench bench-keys bench-import clean

help: ## list the targets
	@echo "make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 16

dev: ## run the portal locally: emulators, demo data, API on :3000 (functions on :9000), web page on :5173 (Ctrl-C stops all)
	@scripts/dev.sh

test: ## fmt, clippy, tests against throw-away emulators, template lint (what CI runs)
	@scripts/test.sh

fuzz: ## hostile HTTP input from openapi.yaml (schemathesis) against the functions; FUZZ_SECONDS a run (default 60)
	@scripts/fuzz.sh

load: ## simulated customers and desktop programs against a throw-away stack, then data checks (LOAD_SECONDS=60 CUSTOMERS=16 PROGRAMS=16)
	@scripts/load.sh

mail: ## list the latest N (default 10) mails sent to the local mailbox (MOTO_URL to change it)
	@scripts/tools.sh --check >/dev/null
	@$(VENV_BIN)/python scripts/mail.py $(N)

events: ## list the latest N (default 10) events the portal published on the local bus (MOTO_URL to change it)
	@scripts/tools.sh --check >/dev/null
	@$(VENV_BIN)/python scripts/events.py $(N)

tools: ## install or check the local tools (Java, Node, DynamoDB Local, Python venv)
	@scripts/tools.sh

web: ## build the customers' page into web/dist (VITE_API_BASE_URL = the API's URL)
	@cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

build: ## release arm64 bootstraps of every function (cargo lambda build), with their sizes
	@scripts/tools.sh
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	@PATH="$(VENV_BIN):$$PATH" cargo lambda build --release --arm64 $(addprefix --bin ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do \
	  b=target/lambda/$$f/bootstrap; \
	  if [[ -f $$b ]]; then s=$$(stat -c %s $$b); printf '%-20s %10d bytes %8d KiB\n' $$f $$s $$((s / 1024)); \
	  else printf '%-20s missing\n' $$f; fi; \
	done

bench: ## measure the bootstraps (sizes, cold start vs a hello-world, warm latency, RSS, calls); writes BENCHMARKS.md (RUNS=30 WARM=200 COMPARE=1)
	@scripts/bench.sh

bench-import: ## import 100,000 generated serials of 40,000 accounts into a throw-away DynamoDB Local: time and peak RSS into BENCHMARKS.md (SERIALS, ACCOUNTS)
	@scripts/bench_import.sh

bench-keys: ## with make dev running: KMS Sign per answer vs Secrets Manager read per instance, against moto (MOTO_URL)
	@scripts/tools.sh --check >/dev/null
	@$(VENV_BIN)/python scripts/bench_keys.py --moto $${MOTO_URL:-http://127.0.0.1:5005}

clean: ## remove .local/ (emulator data, logs, pids); stops nothing
	rm -rf .local
