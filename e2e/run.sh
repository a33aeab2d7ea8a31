#!/usr/bin/env bash
# End-to-end tests: the real api and two ws nodes against a private Redis,
# driven by @stomp/stompjs. Run from anywhere:
#   bash e2e/run.sh [--redis single|cluster|sentinel|both|all] [test files...]
# --redis (or E2E_REDIS) picks the Redis the systems start: one redis-server
# (single, the default), a three-master Redis Cluster with three ws nodes
# (cluster), a master and a replica under three sentinels with two ws nodes
# (sentinel), the selection once in single and once in cluster mode (both),
# or in all three modes (all). Without test files, sentinel mode runs its
# subset, SENTINEL_TESTS (what fits the CI time: seed flow, resume, long
# poll, features); the other modes run every test.
# Logs of every process land in e2e/artifacts/<test>/ (cluster and sentinel
# modes: e2e/artifacts/<mode>/<test>/) and are printed on failure.
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

# E2E_BIN (absolute path) selects another build of api, ws, archiver and
# chatctl than ../bin (the archive test runs the last two).
for b in api ws archiver chatctl; do
	if [ ! -x "${E2E_BIN:-../bin}/$b" ]; then
		echo "e2e: ${E2E_BIN:-../bin}/$b is missing: run \`make build\` at the repository root first" >&2
		exit 1
	fi
done

SENTINEL_TESTS=(tests/seed-flow.test.mjs tests/resume.test.mjs tests/longpoll.test.mjs tests/features.test.mjs)

mode="${E2E_REDIS:-single}"
if [ "${1:-}" = "--redis" ]; then
	mode="${2:?--redis needs single, cluster, sentinel, both or all}"
	shift 2
fi
case "$mode" in
single | cluster | sentinel) modes=("$mode") ;;
both) modes=(single cluster) ;;
all) modes=(single cluster sentinel) ;;
*)
	echo "e2e: --redis/E2E_REDIS must be single, cluster, sentinel, both or all, not \`$mode'" >&2
	exit 2
	;;
esac

# The Redis set-ups and the harness's Redis client: shared/testsupport/redistest's
# command (lib/redis.mjs). E2E_REDISTEST (absolute path) selects a build of
# it instead.
if [ -z "${E2E_REDISTEST:-}" ]; then
	export PATH="$PATH:/usr/local/go/bin" E2E_REDISTEST="$PWD/artifacts/bin/redistest"
	(cd .. && go build -o "$E2E_REDISTEST" ./shared/testsupport/redistest/cmd/redistest)
fi

files=("$@")
# Every mode runs even when one fails; the exit status says whether any failed.
failed=()
for m in "${modes[@]}"; do
	sel=("${files[@]}")
	if [ ${#sel[@]} -eq 0 ]; then
		if [ "$m" = sentinel ]; then sel=("${SENTINEL_TESTS[@]}"); else sel=(tests/); fi
	fi
	echo "== e2e against Redis: $m"
	start=$SECONDS
	if E2E_REDIS=$m node --test --test-concurrency=1 --test-timeout=120000 "${sel[@]}"; then
		echo "== e2e against Redis: $m passed in $((SECONDS - start)) s"
	else
		echo "== e2e against Redis: $m FAILED after $((SECONDS - start)) s"
		failed+=("$m")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "e2e: failed against Redis: ${failed[*]}" >&2
	exit 1
fi
