#!/usr/bin/env bash
# make web: install the client's npm packages from the lock file when needed
# (npm ci), then build web/dist with Vite. Used by make run and make test-web.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "web: node (>= 20.19) is required" >&2; exit 1; }
# npm writes node_modules/.package-lock.json on every install: reinstall when
# it is missing or older than the committed lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "web: npm ci"
	npm ci --no-audit --no-fund
fi
echo "web: vite build -> web/dist"
npx --no-install vite build --logLevel warn
