#!/usr/bin/env bash
# make run-cluster: the whole system on a local three-master Redis Cluster.
# `redistest cluster` (deploy/local/redistest.sh) starts the masters on
# CLUSTER_PORT (default 7000) and the next two ports, bus ports 10000 above,
# with AOF and their files in .run/cluster/<port>/, then deploy/local/run.sh
# runs with REDIS_URL=redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002.
# Ctrl-C stops the services and the cluster; the data stays, and the next
# run on the same ports finds the cluster again.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/redistest.sh

redistest_up cluster .run/cluster "set CLUSTER_PORT to a free range (it and the next two ports, each with the port 10000 above)" \
  -port "${CLUSTER_PORT:-7000}" -dir "$PWD/.run/cluster" -- --appendonly yes --cluster-node-timeout 5000
echo "Redis Cluster up: $(awk '$1 == "master" {printf "%s ", $2}' .run/cluster/redistest.txt)(data in .run/cluster/)"

REDIS_URL=$REDIS_URL bash deploy/local/run.sh &
pids+=($!)
wait -n "${pids[@]}" || true
