#!/usr/bin/env bash
# make run-archive: the whole system on local defaults (deploy/local/run.sh)
# plus the PostgreSQL archive (docs/archive.md).
# - PostgreSQL: the local server at PGHOST:PGPORT (127.0.0.1:5432) as PGUSER
#   (postgres), with trust or a PGPASSWORD; it is not started here. The
#   database ARCHIVE_DB (roomwire) is created with createdb when missing.
# - Then run.sh with ARCHIVE_DATABASE_URL pointing at it: it starts
#   bin/archiver (ARCHIVER_ADDR, :8082; it applies the migrations) and api and
#   ws with the same ARCHIVE_* environment.
# With ARCHIVE_DATABASE_URL already set, that database is used as it is
# (nothing is created). REDIS_URL works as for make run, e.g. a Redis Cluster.
# Ctrl-C stops everything; the database and its rows stay for next time
# (dropdb -h 127.0.0.1 -U postgres roomwire removes them).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${ARCHIVE_DATABASE_URL:-}" ]; then
  export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
  db="${ARCHIVE_DB:-roomwire}"
  if [[ ! "$db" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "ARCHIVE_DB must be a plain lower-case name (letters, digits, _), not $db" >&2
    exit 1
  fi
  if ! command -v psql >/dev/null || ! command -v createdb >/dev/null; then
    echo "psql and createdb are not installed; run: sudo apt-get install postgresql-client (and a server: postgresql)" >&2
    exit 1
  fi
  if ! psql -d postgres -w -Atqc 'select 1' >/dev/null 2>&1; then
    echo "PostgreSQL at $PGHOST:$PGPORT does not accept user $PGUSER:" >&2
    psql -d postgres -w -Atqc 'select 1' >&2 || true
    echo "start it (Debian: sudo pg_ctlcluster <version> main start), or set PGHOST/PGPORT/PGUSER/PGPASSWORD or ARCHIVE_DATABASE_URL" >&2
    exit 1
  fi
  if [ "$(psql -d postgres -w -Atqc "select 1 from pg_database where datname = '$db'")" = 1 ]; then
    echo "using the database $db on $PGHOST:$PGPORT"
  else
    createdb -w "$db"
    echo "created the database $db on $PGHOST:$PGPORT"
  fi
  export ARCHIVE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
fi

exec bash deploy/local/run.sh
