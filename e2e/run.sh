#!/usr/bin/env bash
# End-to-end tests: the real api and two ws nodes against a private Redis,
# driven by @stomp/stompjs. Run from anywhere: bash e2e/run.sh [test files...]
# Logs of every process land in e2e/artifacts/<test>/ and are printed on failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null 2>&1; then
	echo "e2e: node (>= 20) is required" >&2
	exit 1
fi

# npm writes node_modules/.package-lock.json on every install: reinstall when
# it is missing or older than the committed lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "e2e: npm ci"
	npm ci --no-audit --no-fund
fi

# E2E_BIN (absolute path) selects another build of api and ws than ../bin.
for b in api ws; do
	if [ ! -x "${E2E_BIN:-../bin}/$b" ]; then
		echo "e2e: ${E2E_BIN:-../bin}/$b is missing: run \`make build\` at the repository root first" >&2
		exit 1
	fi
done

if [ "$#" -eq 0 ]; then
	set -- tests/
fi
exec node --test --test-concurrency=1 --test-timeout=120000 "$@"
