#!/usr/bin/env bash
# make test-web: unit tests of the client's logic, then the browser test
# (tests/chat.test.mjs: Debian's chromium via playwright-core against a
# private redis-server, bin/api and bin/ws in development mode, and
# serve.mjs serving the fresh build). Screenshots and logs: web/artifacts/.
# Run from anywhere: bash web/test.sh [test files...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "test-web: node (>= 20.19) is required" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "test-web: redis-server is required (apt-get install redis-server)" >&2; exit 1; }
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "test-web: $chromium is missing (apt-get install chromium, or set CHROMIUM_PATH)" >&2; exit 1; }
for b in api ws; do
	[ -x "../bin/$b" ] || { echo "test-web: ../bin/$b is missing: run \`make build\` first" >&2; exit 1; }
done

bash build.sh

echo "test-web: unit tests"
node --test tests/unit/

echo "test-web: browser test"
mkdir -p artifacts
if [ "$#" -eq 0 ]; then set -- tests/chat.test.mjs; fi
node --test --test-concurrency=1 "$@"
echo "test-web: screenshots in $(pwd)/artifacts/"
