# roomwire: make run (whole system on local defaults), make test (everything).
MODULES := shared shared/testsupport/archivetest shared/testsupport/authtest shared/testsupport/redistest api ws tools/chatload
GO ?= go
FUZZTIME ?= 30s
# Linters, pinned so that a new release never breaks a build by itself; the
# go command fetches each once through the module proxy and caches the binary.
# staticcheck v0.8.2 is release 2026.2.2, which supports Go 1.26.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.10.0
# The Go release everything is built and tested with (also the toolchain line
# of go.work and each go.mod): go1.26.10 fixes standard-library
# vulnerabilities in net/http, crypto/tls and crypto/x509 that govulncheck
# reports for go1.26.8. The go command fetches it once through the module proxy.
export GOTOOLCHAIN ?= go1.26.10

.PHONY: all build run run-archive run-cluster run-sentinel test test-go test-e2e test-postman test-web web check check-go lint vulncheck fuzz bench soak clean

all: build

## build: compile bin/api, bin/ws, bin/archiver and bin/chatctl
build:
	@mkdir -p bin
	$(GO) build -o bin/api ./api/cmd/api
	$(GO) build -o bin/ws ./ws/cmd/ws
	$(GO) build -o bin/archiver ./api/cmd/archiver
	$(GO) build -o bin/chatctl ./api/cmd/chatctl

## run: start Redis (reused or private), api and ws with a development secret
run:
	@bash deploy/local/run.sh

## run-archive: the same plus the PostgreSQL archive: creates the database
## roomwire on the local PostgreSQL (127.0.0.1:5432, user postgres) when
## missing, starts bin/archiver (:8082) and gives api and ws ARCHIVE_DATABASE_URL
run-archive:
	@bash deploy/local/archive.sh

## run-cluster: the same on a local three-master Redis Cluster (ports 7000-7002)
run-cluster:
	@bash deploy/local/cluster.sh

## run-sentinel: the same on a local master, replica and three sentinels
## (servers on 6380-6381, sentinels on 26380-26382)
run-sentinel:
	@bash deploy/local/sentinel.sh

## test: vet, race-enabled Go tests of every module, then end-to-end tests,
## then the Postman collection (newman), then the web client's browser test
test: test-go test-e2e test-postman test-web

test-go:
	@set -e; for m in $(MODULES); do \
		echo "== $$m: vet"; (cd $$m && $(GO) vet ./...); \
		echo "== $$m: test -race"; (cd $$m && $(GO) test -race -count=1 ./...); \
	done

## test-e2e: the end-to-end suite against one Redis and against a
## three-master Redis Cluster with three ws nodes, then its Sentinel subset
## (seed flow, resume, long poll, features; two ws nodes) against a master,
## a replica and three sentinels (E2E_REDIS=single, cluster, sentinel or
## both for single and cluster only)
E2E_REDIS ?= all
test-e2e: build
	@bash e2e/run.sh --redis $(E2E_REDIS)

## test-postman: the Postman collection (deploy/postman) with newman against a
## private Redis, the api and a ws node
test-postman: build
	@bash deploy/postman/run.sh

## web: build the browser client into web/dist (npm ci first when needed)
web:
	@bash web/build.sh

## test-web: the client's unit tests and its browser test (Debian chromium)
test-web: build
	@bash web/test.sh

## check: the fast Go-only checks, before the slow suites of `make test`:
## per module gofmt, `go mod tidy -diff`, vet, build and staticcheck, each
## with GOWORK=off (every module stands alone), then govulncheck
check: check-go vulncheck

check-go:
	@set -e; for m in $(MODULES); do \
		echo "== $$m: gofmt, go mod tidy -diff, vet, build, staticcheck (GOWORK=off)"; \
		out=$$(gofmt -l $$m); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi; \
		(cd $$m && GOWORK=off $(GO) mod tidy -diff) || { echo "$$m: go mod tidy would change go.mod/go.sum (diff above)"; exit 1; }; \
		(cd $$m && GOWORK=off $(GO) vet ./...); \
		(cd $$m && GOWORK=off $(GO) build ./...); \
		(cd $$m && GOWORK=off $(GO) run $(STATICCHECK) ./...); \
	done; \
	echo "== shared: no production package imports testing (test support is in shared/testsupport, modules of their own)"; \
	if (cd shared && GOWORK=off $(GO) list -deps ./... | grep -qx testing); then \
		echo "shared imports testing:"; (cd shared && GOWORK=off $(GO) list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -w testing); exit 1; fi

## lint: the same as check (kept for habit and older scripts)
lint: check

# govulncheck reads a local copy of the Go vulnerability database built from
# the golang.org/x/vulndb module (deploy/lint/vulndb.sh), so it needs only the
# module proxy; any finding in code we call fails.
vulncheck:
	@db=$$(bash deploy/lint/vulndb.sh) || exit 1; for m in $(MODULES); do \
		echo "== $$m: govulncheck ($$($(GO) version | cut -d' ' -f3), database $$(cat $${db#file://}/VERSION))"; \
		out=$$(cd $$m && $(GO) run $(GOVULNCHECK) -db "$$db" ./... 2>&1); rc=$$?; \
		if [ $$rc -ne 0 ]; then printf '%s\n' "$$out"; exit $$rc; fi; \
		printf '%s\n' "$$out" | tail -n 3; \
	done

## fuzz: run every fuzz target of every module in turn, each for FUZZTIME
# (plain `go test`, as in `make test`, runs their seed corpora only).
fuzz:
	@set -e; for m in $(MODULES); do \
		for f in $$(cd $$m && grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
			pkg=$$(dirname $$f); \
			for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$m/$$f); do \
				echo "== $$m $$pkg $$name for $(FUZZTIME)"; \
				(cd $$m && $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg); \
			done; \
		done; \
	done

## bench: Go benchmarks of the hot paths, then the load workloads W1/W2/W3
## with chatload against a private Redis, api and ws (BENCH_QUICK=1: ~1 min)
bench:
	@bash deploy/bench/run.sh

## soak: a healthy pair chats while one hostile user runs the memory and
## budget attacks of issue 14 (cases 1, 2, 3, 7) for SOAK_ATTACK_S (60);
## prints loss, p99 against a quiet run and peak RSS of ws and api
soak: build
	@cd e2e && { [ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund; } && node soak/soak.mjs

## bench-cluster: capacity on a local three-master Redis Cluster with three
## ws nodes (per-node and per-shard CPU/RSS; the sizing figures of docs/operations.md)
.PHONY: bench-cluster
bench-cluster:
	@bash deploy/bench/cluster.sh

## bench-smoke: every Go benchmark once (-benchtime=1x), no timing asserted
.PHONY: bench-smoke
bench-smoke:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchtime=1x ./...); done

clean:
	rm -rf bin
