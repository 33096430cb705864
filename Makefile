# Argo signals suite. `make run` and `make test` are the two commands a new user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PROTO_FILES := $(shell find protos -name '*.proto' | sort)
GEN := gen/python
SOURCE_ROOTS := gen/python libs services/market_gateway services/signal_engine services/tracker .
# buf breaking compares the protos with this git ref (override in a PR pipeline).
BREAKING_AGAINST ?= .git\#branch=main,subdir=protos

.PHONY: help venv protos protos-check lint fmt test test-unit test-integration k8s-render k8s-check \
        test-e2e test-load run clean bench bench-quick bench-resilience bench-tracker sim

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements/main.txt requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11+ is required (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements/main.txt -r requirements/dev.txt
	@# Source roots go on the venv's path through a .pth file (what an editable install
	@# does), so packages added later need no reinstall.
	printf '%s\n' $(addprefix $(CURDIR)/,$(SOURCE_ROOTS)) \
		> "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/argo-dev.pth"
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install the pinned dependencies

define gen_protos
	rm -rf $(1) && mkdir -p $(1)
	PATH="$(abspath $(BIN)):$$PATH" $(PY) -m grpc_tools.protoc -I protos \
		--python_out=$(1) --mypy_out=$(1) --grpc_python_out=$(1) --mypy_grpc_out=$(1) \
		$(PROTO_FILES)
	find $(1)/argo -type d -exec touch {}/__init__.py \;
endef

protos: $(STAMP) ## regenerate gen/python from protos/
	$(call gen_protos,$(GEN))

protos-check: $(STAMP) ## fail when gen/python is stale
	$(call gen_protos,.protos-check.tmp)
	@diff -r -x __pycache__ .protos-check.tmp $(GEN) >/dev/null \
		|| { diff -r -x __pycache__ .protos-check.tmp $(GEN) | head -20; rm -rf .protos-check.tmp; \
		     echo "gen/python is stale: run 'make protos' and commit the result"; exit 1; }
	@rm -rf .protos-check.tmp
	@echo "gen/python is up to date"

lint: $(STAMP) ## buf lint + buf breaking + ruff + mypy + import boundaries + k8s-check
	$(BIN)/buf lint
	@if git rev-parse --verify --quiet main:protos >/dev/null; then \
		echo "buf breaking --against '$(BREAKING_AGAINST)'"; \
		$(BIN)/buf breaking --against '$(BREAKING_AGAINST)'; \
	else echo "buf breaking: main has no protos/ yet, nothing to compare against"; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs services tools bench
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory k8s-check

# Kubernetes manifests (deploy/k8s): the oldest and newest Kubernetes versions we validate.
K8S_OVERLAYS := $(sort $(notdir $(patsubst %/kustomization.yaml,%,$(wildcard deploy/k8s/overlays/*/kustomization.yaml))))
K8S_VERSIONS ?= 1.29.0 1.37.0
OVERLAY ?= dev

k8s-render: $(STAMP) ## print an overlay's manifests (OVERLAY=dev|prod)
	@$(BIN)/kubectl kustomize deploy/k8s/overlays/$(OVERLAY)

k8s-check: $(STAMP) ## render every overlay and validate it strictly against the Kubernetes schemas
	@set -euo pipefail; out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	for overlay in $(K8S_OVERLAYS); do \
		$(BIN)/kubectl kustomize deploy/k8s/overlays/$$overlay > "$$out/$$overlay.yaml"; \
		$(BIN)/kubernetes-validate --strict --quiet --no-warn $(addprefix -k ,$(K8S_VERSIONS)) \
			"$$out/$$overlay.yaml"; \
		echo "deploy/k8s/overlays/$$overlay: rendered, valid for Kubernetes $(K8S_VERSIONS)"; \
	done; \
	$(BIN)/kubernetes-validate --strict --quiet $(addprefix -k ,$(K8S_VERSIONS)) deploy/k8s/secrets/*.yaml; \
	echo "Prometheus Operator resources have no bundled schema: tests/unit/deploy checks them"

fmt: $(STAMP) ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) ## the whole test suite (needs Redis and PostgreSQL on localhost)
	$(BIN)/pytest -q

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

test-e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

test-load: $(STAMP) ## 64 callers on every RPC of the three services: errors, p99, RSS (~2 min)
	$(BIN)/pytest -q -s tests/load

bench: $(STAMP) ## seed scenario, baseline vs optimized, real processes (<= 15 min; docs/benchmarks.md)
	$(PY) -m bench.run

bench-quick: $(STAMP) ## the reduced seed-scenario benchmark CI can afford (<= 3 min)
	$(PY) -m bench.run --quick

bench-resilience: $(STAMP) ## per-call overhead of the resilience pipeline vs a bare call
	@mkdir -p bench/results
	$(PY) -m bench.resilience_overhead --redis $${REDIS_URL:-redis://127.0.0.1:6379/0} \
		--json bench/results/resilience_overhead.json

bench-encoding: $(STAMP) ## GetQuotes response building: message per quote vs the pre-encoded quotes
	@mkdir -p bench/results
	$(PY) -m bench.quote_encoding --json bench/results/quote_encoding.json

bench-tracker: $(STAMP) ## RecordSignals ingest vs raw COPY (PostgreSQL), Parquet vs CSV size
	@mkdir -p bench/results
	$(PY) -m bench.tracker_ingest \
		--database-url $${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		--json bench/results/tracker_ingest.json

run: $(STAMP) ## start the three services with embedded defaults and show live signals
	$(PY) -m tools.run_suite

sim: $(STAMP) ## provider simulator on :8900 (each provider also on 8901-8909); docs/provider-simulator.md
	$(PY) -m tools.provider_sim --port 8900

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .protos-check.tmp
