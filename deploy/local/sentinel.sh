#!/usr/bin/env bash
# make run-sentinel: the whole system on a local Redis under Sentinel.
# `redistest sentinel` (deploy/local/redistest.sh) starts a master on
# SENTINEL_PORT - 20000 (default 6380), its replica on the next port, and
# three sentinels (`redis-server <conf> --sentinel`, the same binary as
# Debian's redis-sentinel) on SENTINEL_PORT (default 26380) and the next two
# ports, watching master set "roomwire" (quorum 2, down-after-milliseconds
# 5000); AOF data and sentinel configs in .run/sentinel/<port>/. Then runs
# deploy/local/run.sh with
# REDIS_URL=redis+sentinel://127.0.0.1:26380,127.0.0.1:26381,127.0.0.1:26382/roomwire.
# Try a failover: redis-cli -p 26380 sentinel failover roomwire.
# A restart starts from the original roles (the sentinels' configs are
# written anew). Ctrl-C stops the services, the sentinels and both servers.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/redistest.sh

sbase="${SENTINEL_PORT:-26380}"
redistest_up sentinel .run/sentinel "set SENTINEL_PORT to a free range (the servers use SENTINEL_PORT-20000 and the next port)" \
  -name roomwire -down-after 5s -port $((sbase - 20000)) -sentinel-port "$sbase" -dir "$PWD/.run/sentinel" -- --appendonly yes
echo "Redis under Sentinel: $(awk '$1 != "url" && $1 != "ready" {printf "%s %s, ", $1, $2}' .run/sentinel/redistest.txt)data in .run/sentinel/"

REDIS_URL=$REDIS_URL bash deploy/local/run.sh &
pids+=($!)
wait -n "${pids[@]}" || true
