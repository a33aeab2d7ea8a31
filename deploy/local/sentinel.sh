#!/usr/bin/env bash
# make run-sentinel: the whole system on a local Redis under Sentinel.
# Starts a master on SENTINEL_PORT - 20000 (default 6380), its replica on
# the next port, and three sentinels (`redis-server <conf> --sentinel`, the
# same binary as Debian's redis-sentinel) on SENTINEL_PORT (default 26380)
# and the next two ports, watching master set "roomwire" (quorum 2,
# down-after-milliseconds 5000); data and sentinel configs in
# .run/sentinel/. Then runs deploy/local/run.sh with
# REDIS_URL=redis+sentinel://127.0.0.1:26380,127.0.0.1:26381,127.0.0.1:26382/roomwire.
# Try a failover: redis-cli -p 26380 sentinel failover roomwire.
# Ctrl-C stops the services, the sentinels and both servers.
set -euo pipefail
cd "$(dirname "$0")/../.."

sbase="${SENTINEL_PORT:-26380}"
mport=$((sbase - 20000))
rport=$((mport + 1))
sports=("$sbase" "$((sbase + 1))" "$((sbase + 2))")
dir="$PWD/.run/sentinel"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

for port in "$mport" "$rport" "${sports[@]}"; do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
    echo "port $port is in use: set SENTINEL_PORT to a free range (the servers use SENTINEL_PORT-20000 and the next port)" >&2
    exit 1
  fi
  mkdir -p "$dir/$port"
done
# A restart starts from the original roles: the sentinels' state files are
# written anew (they would remember a failover's roles otherwise).
redis-server --port "$mport" --bind 127.0.0.1 --appendonly yes --dir "$dir/$mport" --logfile "$dir/$mport/redis.log" &
pids+=($!)
redis-server --port "$rport" --bind 127.0.0.1 --appendonly yes --dir "$dir/$rport" --logfile "$dir/$rport/redis.log" \
  --replicaof 127.0.0.1 "$mport" &
pids+=($!)
for port in "${sports[@]}"; do
  cat >"$dir/$port/sentinel.conf" <<CONF
port $port
bind 127.0.0.1
dir $dir/$port
logfile $dir/$port/sentinel.log
sentinel monitor roomwire 127.0.0.1 $mport 2
sentinel down-after-milliseconds roomwire 5000
sentinel failover-timeout roomwire 30000
CONF
  redis-server "$dir/$port/sentinel.conf" --sentinel &
  pids+=($!)
done
for port in "$mport" "$rport" "${sports[@]}"; do
  for _ in $(seq 50); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
done
echo "Redis under Sentinel: master $mport, replica $rport, sentinels ${sports[*]} (data in .run/sentinel/)"

REDIS_URL="redis+sentinel://$(IFS=,; echo "${sports[*]/#/127.0.0.1:}")/roomwire" bash deploy/local/run.sh &
pids+=($!)
wait -n "${pids[@]}" || true
