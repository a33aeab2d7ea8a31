#!/usr/bin/env bash
# Refreshes assets/ from the npm package swagger-ui-dist at SWAGGER_UI_VERSION
# (the version in assets/VERSION by default). Only maintainers run this: the
# files it writes are committed, so `go build` never needs npm. The large
# files are stored gzip-compressed (gzip -9n: no name, no timestamp, so the
# output is reproducible) and served as they are to clients that accept gzip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
version="${SWAGGER_UI_VERSION:-$(cat assets/VERSION)}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "swagger-ui-dist@$version" --silent >/dev/null && tar xzf "swagger-ui-dist-$version.tgz")
pkg="$tmp/package"
gzip -9n <"$pkg/swagger-ui-bundle.js" >assets/swagger-ui-bundle.js.gz
gzip -9n <"$pkg/swagger-ui.css" >assets/swagger-ui.css.gz
cp "$pkg/favicon-32x32.png" assets/favicon-32x32.png
cp "$pkg/LICENSE" assets/LICENSE.swagger-ui
cp "$pkg/NOTICE" assets/NOTICE.swagger-ui
cp "$pkg/swagger-ui-bundle.js.LICENSE.txt" assets/swagger-ui-bundle.js.LICENSE.txt
echo "$version" >assets/VERSION
echo "docs: assets/ now holds swagger-ui-dist $version"
