#!/usr/bin/env bash
# Build a local Go vulnerability database for govulncheck and print its
# file:// URL. The data comes from the golang.org/x/vulndb module (the OSV
# reports behind vuln.go.dev), fetched through the Go module proxy, so the
# check also runs where vuln.go.dev cannot be reached; the module's own
# cmd/indexdb writes the v1 database layout govulncheck reads.
#   VULNDB_VERSION  module version (default: latest)
#   VULNDB_DIR      where to keep the database (default: .cache/vulndb)
set -euo pipefail
cd "$(dirname "$0")/../.."
ver="${VULNDB_VERSION:-latest}"
out="${VULNDB_DIR:-$PWD/.cache/vulndb}"

info=$(cd /tmp && go mod download -json "golang.org/x/vulndb@$ver")
src=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
resolved=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
	echo "vulndb: golang.org/x/vulndb@$ver has no data/osv" >&2
	exit 1
fi
if [ "$(cat "$out/VERSION" 2>/dev/null)" != "$resolved" ]; then
	rm -rf "$out.tmp"
	(cd "$src" && GOFLAGS=-mod=mod go run ./cmd/indexdb -vulns data/osv -out "$out.tmp") >&2
	echo "$resolved" >"$out.tmp/VERSION"
	rm -rf "$out" && mv "$out.tmp" "$out"
	echo "vulndb: built from golang.org/x/vulndb@$resolved ($(ls "$out/ID" | wc -l) entries)" >&2
fi
echo "file://$out"
