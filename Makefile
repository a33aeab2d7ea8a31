# roomwire: make run (whole system on local defaults), make test (everything).
MODULES := shared api ws
GO ?= go
FUZZTIME ?= 30s

.PHONY: all build run test test-go test-e2e test-web web lint fuzz bench clean

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
## then the web client's browser test
test: test-go test-e2e test-web

test-go:
	@set -e; for m in $(MODULES); do \
		echo "== $$m: vet"; (cd $$m && $(GO) vet ./...); \
		echo "== $$m: test -race"; (cd $$m && $(GO) test -race -count=1 ./...); \
	done

test-e2e: build
	@bash e2e/run.sh

## web: build the browser client into web/dist (npm ci first when needed)
web:
	@bash web/build.sh

## test-web: the client's unit tests and its browser test (Debian chromium)
test-web: build
	@bash web/test.sh

## lint: gofmt and vet on every module
lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	cd ws && $(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/stomp

## bench: Go benchmarks of the hot paths
bench:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...); done

clean:
	rm -rf bin
