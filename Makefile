# roomwire: make run (whole system on local defaults), make test (everything).
MODULES := shared api ws
GO ?= go
FUZZTIME ?= 30s
GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@latest

.PHONY: all build run test test-go test-e2e test-postman test-web web lint fuzz bench clean

all: build

## build: compile bin/api, bin/ws and bin/chatctl
build:
	@mkdir -p bin
	$(GO) build -o bin/api ./api/cmd/api
	$(GO) build -o bin/ws ./ws/cmd/ws
	$(GO) build -o bin/chatctl ./api/cmd/chatctl

## run: start Redis (reused or private), api and ws with a development secret
run:
	@bash deploy/local/run.sh

## test: vet, race-enabled Go tests of every module, then end-to-end tests,
## then the Postman collection (newman), then the web client's browser test
test: test-go test-e2e test-postman test-web

test-go:
	@set -e; for m in $(MODULES); do \
		echo "== $$m: vet"; (cd $$m && $(GO) vet ./...); \
		echo "== $$m: test -race"; (cd $$m && $(GO) test -race -count=1 ./...); \
	done

test-e2e: build
	@bash e2e/run.sh

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

## lint: gofmt, vet and govulncheck on every module
# govulncheck needs its vulnerability database (vuln.go.dev); when that
# cannot be reached the check is skipped with a message, but a finding
# (exit status 3) always fails.
lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done
	@for m in $(MODULES); do \
		echo "== $$m: govulncheck"; \
		out=$$(cd $$m && $(GO) run $(GOVULNCHECK) ./... 2>&1); rc=$$?; \
		if [ $$rc -eq 0 ]; then echo "$$out" | tail -n 3; continue; fi; \
		if [ $$rc -ne 3 ] && printf '%s' "$$out" | grep -Eq 'fetching vulnerabilities|no such host|dial tcp|connection refused|i/o timeout|proxy.golang.org'; then \
			echo "govulncheck: SKIPPED for $$m: the vulnerability database or the module proxy cannot be reached from this machine"; \
			printf '%s\n' "$$out" | grep -m1 -E 'govulncheck:|dial tcp|no such host' | sed 's/^/  /'; continue; \
		fi; \
		echo "$$out"; exit $$rc; \
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

## bench-smoke: every Go benchmark once (-benchtime=1x), no timing asserted
.PHONY: bench-smoke
bench-smoke:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchtime=1x ./...); done

clean:
	rm -rf bin
