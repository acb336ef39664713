# congressflow — developer entry points.
#
#   make run    start a Temporal dev server, a local PostgreSQL (unless
#               DATABASE_URL is set) and the worker, then run the pipeline
#   make test   every test, integration tests included (real PostgreSQL,
#               real Temporal dev server)
#   make faults the fault suite at full size (worker SIGKILLs, PostgreSQL
#               and Temporal restarts, API faults, bad inputs); make test
#               runs its short form
#   make lint   gofmt, go vet, staticcheck, workflowcheck
#   make bench  the performance claims as ratios against baselines measured
#               in the same run; writes bench/results.md
#   make fuzz   every fuzz target for FUZZTIME (default 30s) each
#   make up / make down   the docker compose stack
#   make compose-check    validate docker-compose.yml
#   make temporal-cli     the Temporal CLI (built once, ~15 min on 2 CPUs),
#               linked as .data/bin/temporal

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Tools are pinned: this module proxy serves no @latest for several of them.
# They are built once into the user cache, keyed by version, outside the clone.
TEMPORAL_CLI_VERSION := v1.5.1
STATICCHECK_VERSION  := v0.8.2
WORKFLOWCHECK_VERSION := v0.5.0
CACHE_DIR      := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/congressflow
TEMPORAL_BIN   := $(CACHE_DIR)/temporal-cli-$(TEMPORAL_CLI_VERSION)/temporal
STATICCHECK    := $(CACHE_DIR)/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck
WORKFLOWCHECK  := $(CACHE_DIR)/tools/workflowcheck-$(WORKFLOWCHECK_VERSION)/workflowcheck

# A temporal already on PATH wins, or TEMPORAL=/path/to/temporal; otherwise
# the cached build.
TEMPORAL ?= $(or $(shell command -v temporal 2>/dev/null),$(TEMPORAL_BIN))
# Building the CLI compiles about this many packages (go list -deps of
# cmd/temporal at the pinned version): about 15 minutes on 2 CPUs.
TEMPORAL_CLI_PACKAGES := 1300

DATA_DIR   := .data
PG_PORT    ?= 5433
UI_PORT    ?= 8233
GRPC_PORT  ?= 7233
# METRICS_PORT is where the worker `make run` starts serves /metrics
# (Prometheus) and /healthz, on 127.0.0.1.
METRICS_PORT ?= 9090
# KEEP=0 makes `make run` stop everything once the pipeline finishes;
# by default it keeps the services up for the Web UI until Ctrl-C.
KEEP       ?= 1
# INPUT is the PipelineInput JSON for `make run`, e.g.
#   make run INPUT='{"tune":{"apply":true,"restart_policy":"command"}}'
# Default: every stage; the ingest walks the default endpoints of the real
# API with CONGRESS_API_KEY, or every endpoint of the bundled fake without.
INPUT      ?=
export INPUT
# FAKE_PORT is where `make run` serves the fake Congress.gov API when
# CONGRESS_API_KEY is unset; FAKE_ITEMS its items per endpoint.
FAKE_PORT  ?= 8089
FAKE_ITEMS ?= 2000
TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: help
help:
	@awk '/^#   make run/ { p = 1 } p && /^#/ { sub(/^#   ?/, ""); print; next } p { exit }' Makefile
	@echo
	@echo "variables, e.g. make run KEEP=0 INPUT='{\"stages\":[\"analyze\"]}'"
	@printf '  %-22s %s\n' \
	  "GRPC_PORT=$(GRPC_PORT)" "Temporal dev server gRPC port (make run sets TEMPORAL_ADDRESS to it)" \
	  "UI_PORT=$(UI_PORT)" "Temporal Web UI port" \
	  "PG_PORT=$(PG_PORT)" "port of the local PostgreSQL cluster in $(DATA_DIR)/pg (when DATABASE_URL is unset)" \
	  "METRICS_PORT=$(METRICS_PORT)" "the worker's /metrics and /healthz on 127.0.0.1 (WORKER_METRICS_ADDR)" \
	  "KEEP=$(KEEP)" "1: keep everything up after the pipeline until Ctrl-C; 0: stop when it is done" \
	  "INPUT='$$INPUT'" "PipelineInput JSON of the pipeline make run starts" \
	  "TEMPORAL=..." "the temporal CLI: one on PATH, else built once into the user cache; now $(TEMPORAL)"
	@echo
	@echo "after make run (or make temporal-cli), export PATH=\"\$$PWD/$(DATA_DIR)/bin:\$$PATH\" puts temporal, starter and worker on PATH"

# go install -v names each package it compiles; the loop turns that into a
# count every 100 packages and passes everything else (downloads, errors)
# through. Time scales with CPUs: about 30 CPU-minutes in all.
$(TEMPORAL_BIN):
	@cpus=$$(nproc 2>/dev/null || echo 2); \
	echo "make: building the Temporal CLI $(TEMPORAL_CLI_VERSION) into $(@D), once: about $(TEMPORAL_CLI_PACKAGES) packages, roughly $$(( (30 + cpus - 1) / cpus )) minutes on $$cpus CPUs"; \
	echo "make: to use a temporal you already have instead, put it on PATH or pass TEMPORAL=/path/to/temporal"
	@mkdir -p $(@D)
	@start=$$(date +%s); n=0; \
	GOBIN=$(@D) GOFLAGS=-mod=mod go install -v github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION) 2>&1 | \
	while IFS= read -r line; do \
	  case "$$line" in \
	    *" "*|*:*|"") echo "$$line" ;; \
	    *) n=$$((n + 1)); if (( n % 100 == 0 )); then \
	         s=$$(( $$(date +%s) - start )); \
	         echo "make: Temporal CLI build: $$n of about $(TEMPORAL_CLI_PACKAGES) packages compiled, $$((s / 60))m$$((s % 60))s so far"; \
	       fi ;; \
	  esac; \
	done; \
	s=$$(( $$(date +%s) - start )); echo "make: built $@ in $$((s / 60))m$$((s % 60))s"

$(STATICCHECK):
	@mkdir -p $(@D)
	GOBIN=$(@D) GOFLAGS=-mod=mod go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(WORKFLOWCHECK):
	@mkdir -p $(@D)
	GOBIN=$(@D) GOFLAGS=-mod=mod go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

.PHONY: temporal-cli
temporal-cli: ## the temporal binary, unless one is on PATH; linked into .data/bin
	@if [ "$(TEMPORAL)" = "$(TEMPORAL_BIN)" ]; then $(MAKE) -s --no-print-directory $(TEMPORAL_BIN); fi
	@mkdir -p $(DATA_DIR)/bin
	@ln -sfn "$$(readlink -f "$(TEMPORAL)")" $(DATA_DIR)/bin/temporal

.PHONY: tools
tools: temporal-cli $(STATICCHECK) $(WORKFLOWCHECK)

.PHONY: build
build:
	go build ./...

.PHONY: test
test: temporal-cli
	TEMPORAL_CLI=$(TEMPORAL) go test $(TEST_FLAGS) ./...

# The fault suite at the sizes it is specified at (CONGRESSFLOW_FAULTS=full);
# `make test` runs the same scenarios smaller. Each scenario ends comparing
# the tables with the fake API's ground truth and prints a "faults:" line
# with the counts compared; the summary collects them. Full log:
# $(DATA_DIR)/faults.log.
.PHONY: faults
faults: temporal-cli
	@mkdir -p $(DATA_DIR)
	@start=$$(date +%s); rc=0; \
	CONGRESSFLOW_FAULTS=full TEMPORAL_CLI=$(TEMPORAL) go test -count=1 -timeout 90m -v ./internal/faults 2>&1 | \
	  tee $(DATA_DIR)/faults.log | { grep --line-buffered -E '^(--- |FAIL|ok )' || true; } || rc=$$?; \
	s=$$(( $$(date +%s) - start )); \
	echo; echo "fault scenarios, full size ($$((s / 60))m$$((s % 60))s; log: $(DATA_DIR)/faults.log):"; \
	{ grep -E '^faults: ' $(DATA_DIR)/faults.log || echo "  (none finished)"; } | sed 's/^faults: /  /'; \
	exit $$rc

# make bench measures the claims of bench/results.md (internal/bench): each
# a ratio against a baseline run in the same process at the same time, the
# median of BENCH_COUNT runs. BENCH_QUICK=1 shrinks the sizes for
# development. The measurements skip themselves in a plain go test.
BENCH_COUNT ?= 3
BENCH_QUICK ?= 0
.PHONY: bench
bench: temporal-cli
	@rm -rf $(DATA_DIR)/bench && mkdir -p $(DATA_DIR)/bench bench
	CONGRESSFLOW_BENCH=1 BENCH_COUNT=$(BENCH_COUNT) BENCH_QUICK=$(BENCH_QUICK) BENCH_DIR=$(CURDIR)/$(DATA_DIR)/bench \
	  TEMPORAL_CLI=$(TEMPORAL) go test -count=1 -timeout 60m -run '^TestBench' -v ./internal/bench \
	  >$(DATA_DIR)/bench/log.txt 2>&1 || { tail -30 $(DATA_DIR)/bench/log.txt; exit 1; }
	@grep -E '^\s+p[0-9]_test.go:[0-9]+: P[0-9]' $(DATA_DIR)/bench/log.txt || true
	@echo
	TEMPORAL_CLI=$(TEMPORAL) go run ./internal/bench/cmd/benchreport -dir $(DATA_DIR)/bench -out bench/results.md \
	  -command "make bench BENCH_COUNT=$(BENCH_COUNT) BENCH_QUICK=$(BENCH_QUICK)"

# make fuzz runs every fuzz target for FUZZTIME each, one worker by default
# (fuzzing is CPU-bound; FUZZ_FLAGS adds flags). A failing input lands in
# the package's testdata/fuzz, where plain go test replays it from then on.
FUZZTIME   ?= 30s
FUZZ_FLAGS ?= -parallel 1
FUZZ_TARGETS := \
	internal/congress:FuzzDecodePage \
	internal/congress:FuzzScan \
	internal/congress:FuzzItemKey \
	internal/congress:FuzzJoinKey \
	internal/strictjson:FuzzCheckAgreesWithEncodingJSON \
	internal/ingest:FuzzWalk \
	internal/pgtune:FuzzFormatKB \
	internal/pgtune:FuzzFormatBytes \
	internal/pgtune:FuzzParseSize \
	internal/pgext:FuzzParsePreloadList \
	internal/pgext:FuzzMergePreload

.PHONY: fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "make: fuzzing $$name in ./$$pkg for $(FUZZTIME)"; \
	  go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZ_FLAGS) ./$$pkg; \
	done

.PHONY: lint
lint: $(STATICCHECK) $(WORKFLOWCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...
	$(WORKFLOWCHECK) -show-pos ./workflows/...

# The compose client: Docker's plugin when present, else docker-compose.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo docker-compose; fi)

.PHONY: compose-check
compose-check: ## validate docker-compose.yml with a compose client
	$(COMPOSE) config -q

# make run: everything it starts is stopped on Ctrl-C (or at the end with KEEP=0).
.PHONY: run
run: temporal-cli
	@mkdir -p $(DATA_DIR)/bin
	@go build -o $(DATA_DIR)/bin/worker ./worker
	@go build -o $(DATA_DIR)/bin/starter ./starter
	@go build -o $(DATA_DIR)/bin/localpg ./internal/pgtest/cmd/localpg
	@go build -o $(DATA_DIR)/bin/fakecongress ./internal/congresstest/cmd/fakecongress
	@pids=(); started_pg=0; \
	cleanup() { \
	  trap - EXIT INT TERM; \
	  for p in "$${pids[@]}"; do kill "$$p" 2>/dev/null || true; done; \
	  for p in "$${pids[@]}"; do wait "$$p" 2>/dev/null || true; done; \
	  if [ "$$started_pg" = 1 ]; then $(DATA_DIR)/bin/localpg stop -dir $(DATA_DIR)/pg || true; fi; \
	  echo "make run: stopped what it started"; \
	}; \
	trap cleanup EXIT; trap 'exit 130' INT TERM; \
	export TEMPORAL_ADDRESS=$${TEMPORAL_ADDRESS:-localhost:$(GRPC_PORT)}; \
	export TEMPORAL_UI_URL=$${TEMPORAL_UI_URL:-http://localhost:$(UI_PORT)}; \
	if "$(TEMPORAL)" operator cluster health --address "$$TEMPORAL_ADDRESS" >/dev/null 2>&1; then \
	  echo "make run: using the Temporal server already at $$TEMPORAL_ADDRESS"; \
	else \
	  echo "make run: starting the Temporal dev server (Web UI http://localhost:$(UI_PORT), data $(DATA_DIR)/temporal.db)"; \
	  "$(TEMPORAL)" server start-dev --port $(GRPC_PORT) --ui-port $(UI_PORT) \
	    --db-filename $(DATA_DIR)/temporal.db --log-level warn >$(DATA_DIR)/temporal.log 2>&1 & pids+=($$!); \
	  for i in $$(seq 1 120); do \
	    "$(TEMPORAL)" operator cluster health --address "$$TEMPORAL_ADDRESS" >/dev/null 2>&1 && break; \
	    kill -0 "$${pids[-1]}" 2>/dev/null || { echo "make run: the dev server exited, see $(DATA_DIR)/temporal.log"; tail -5 $(DATA_DIR)/temporal.log; exit 1; }; \
	    sleep 0.5; \
	  done; \
	fi; \
	if [ -z "$${DATABASE_URL:-}" ]; then \
	  echo "make run: starting a local PostgreSQL cluster in $(DATA_DIR)/pg on port $(PG_PORT)"; \
	  DATABASE_URL=$$($(DATA_DIR)/bin/localpg start -dir $(DATA_DIR)/pg -port $(PG_PORT)); started_pg=1; \
	  export PG_RESTART_COMMAND=$${PG_RESTART_COMMAND:-"$(CURDIR)/$(DATA_DIR)/bin/localpg restart -dir $(CURDIR)/$(DATA_DIR)/pg"}; \
	fi; \
	export DATABASE_URL; \
	if [ -z "$${CONGRESS_API_KEY:-}" ]; then \
	  export CONGRESS_API_BASE_URL=http://127.0.0.1:$(FAKE_PORT)/v3 CONGRESS_API_KEY=OFFLINE-DEMO-KEY; \
	  export CONGRESS_API_REQUESTS_PER_HOUR=$${CONGRESS_API_REQUESTS_PER_HOUR:-3600000}; \
	  echo "make run: no CONGRESS_API_KEY, so the ingest reads the bundled fake Congress.gov API at $$CONGRESS_API_BASE_URL ($(FAKE_ITEMS) items per endpoint); get a free key at https://api.congress.gov/sign-up/ and set CONGRESS_API_KEY to ingest the real API"; \
	  $(DATA_DIR)/bin/fakecongress -addr 127.0.0.1:$(FAKE_PORT) -items $(FAKE_ITEMS) -key OFFLINE-DEMO-KEY -log-format json >$(DATA_DIR)/fakecongress.log 2>&1 & pids+=($$!); \
	  if [ -z "$$INPUT" ]; then INPUT='{"ingest":{"endpoints":["all"]}}'; fi; \
	else \
	  echo "make run: ingesting the real Congress.gov API at $${CONGRESS_API_BASE_URL:-https://api.congress.gov/v3} with CONGRESS_API_KEY"; \
	fi; \
	if [ -z "$$INPUT" ]; then INPUT='{}'; fi; \
	export WORKER_METRICS_ADDR=$${WORKER_METRICS_ADDR:-127.0.0.1:$(METRICS_PORT)}; \
	echo "make run: starting the worker (log: $(DATA_DIR)/worker.log; metrics http://$$WORKER_METRICS_ADDR/metrics, health http://$$WORKER_METRICS_ADDR/healthz)"; \
	LOG_FORMAT=$${LOG_FORMAT:-json} $(DATA_DIR)/bin/worker --probe-paths "$(CURDIR),$(DATA_DIR)" >$(DATA_DIR)/worker.log 2>&1 & pids+=($$!); \
	for i in $$(seq 1 120); do \
	  grep -qs '"worker: polling"' $(DATA_DIR)/worker.log && break; \
	  kill -0 "$${pids[-1]}" 2>/dev/null || { echo "make run: the worker exited:"; tail -3 $(DATA_DIR)/worker.log; exit 1; }; \
	  sleep 0.5; \
	done; \
	$(DATA_DIR)/bin/starter run --wait --input "$$INPUT"; \
	if [ "$(KEEP)" = 1 ]; then \
	  echo "make run: pipeline done. Web UI: http://localhost:$(UI_PORT) — Ctrl-C stops the worker, the dev server and the cluster."; \
	  echo "make run: in another shell, export PATH=\"$(CURDIR)/$(DATA_DIR)/bin:\$$PATH\" gives you temporal, starter and worker (README: Starting workflows)"; \
	  wait "$${pids[@]}"; \
	fi

.PHONY: up
up:
	$(COMPOSE) up -d --build

.PHONY: down
down:
	$(COMPOSE) down

.PHONY: clean
clean:
	rm -rf $(DATA_DIR)
