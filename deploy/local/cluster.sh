#!/usr/bin/env bash
# make run-cluster: the whole system on a local three-master Redis Cluster.
# Starts redis-server --cluster-enabled yes on CLUSTER_PORT (default 7000)
# and the next two ports (data in .run/cluster/), joins them with
# `redis-cli --cluster create`, then runs deploy/local/run.sh with
# REDIS_URL=redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002.
# Ctrl-C stops the services and the cluster; the data stays for next time.
set -euo pipefail
cd "$(dirname "$0")/../.."

base="${CLUSTER_PORT:-7000}"
ports=("$base" "$((base + 1))" "$((base + 2))")
dir="$PWD/.run/cluster"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

for port in "${ports[@]}"; do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
    echo "port $port is in use: set CLUSTER_PORT to a free range" >&2
    exit 1
  fi
  mkdir -p "$dir/$port"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 5000 \
    --appendonly yes --dir "$dir/$port" --logfile "$dir/$port/redis.log" &
  pids+=($!)
done
for port in "${ports[@]}"; do
  for _ in $(seq 50); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
done
if [ "$(redis-cli -p "$base" cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')" != ok ]; then
  redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$base" cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')" = ok ] && break
    sleep 0.1
  done
fi
echo "Redis Cluster up on ports ${ports[*]} (data in .run/cluster/)"

REDIS_URL="redis+cluster://$(IFS=,; echo "${ports[*]/#/127.0.0.1:}")" bash deploy/local/run.sh &
pids+=($!)
wait -n "${pids[@]}" || true
