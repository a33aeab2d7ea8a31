#!/usr/bin/env bash
# make bench-cluster: the figures behind the sizing notes of docs/operations.md. A
# three-master Redis Cluster and three ws nodes on loopback (all on this one
# machine, beside the load generator), chatload spreading its connections
# over the nodes (connection i to node i mod 3):
#
#   C2  one-to-one: 3,000 connections in 1,500 direct rooms, every user sends
#       1 msg/s (6,000 deliveries/s) for BENCH_DURATION (default 20s)
#   C3  fan-out: 1 room of 900 subscribers (300 per node), 10 publishers
#       sharing 50 then 200 msg/s
#
# It prints chatload's summary per phase, then CPU seconds and RSS of each
# ws node and each Redis shard over the whole workload, and how many
# messages each node's hub received from Redis (roomwire_ws_redis_messages_received_total).
# Environment: BENCH_OUT (default /tmp/roomwire-bench-cluster/<time>),
# BENCH_DURATION, BENCH_C2_CONNS (3000), BENCH_C3_SUBS (900).
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
out=${BENCH_OUT:-${TMPDIR:-/tmp}/roomwire-bench-cluster/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
dur=${BENCH_DURATION:-20s}
echo "bench-cluster: logs in $out"
$GO build -o "$out/bin/ws" ./ws/cmd/ws
$GO build -o "$out/bin/chatload" ./tools/chatload
$GO build -o "$out/bin/redistest" ./shared/testsupport/redistest/cmd/redistest
ulimit -n 65536 2>/dev/null || true

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# A free port whose cluster bus port (port + 10000) is free too.
freeport() {
	python3 -c '
import random, socket
while True:
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'
}
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
secs() { awk -v a="$(ticks "$1")" -v b="$2" -v hz="$hz" 'BEGIN {printf "%.2f", (a - b) / hz}'; }
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

cat >"$out/summary.py" <<'PY'
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r.get("mode") != "publish":
        continue
    redis_us = 1e6 * r["redisCpuS"] / max(r["sent"], 1)
    print(f"  {r['totalRate']:>7.0f} msg/s sent {r['sent']:>7} received {r['received']:>8} lost {r['lost']} dup {r['duplicates']}"
          f"  p50/p99 {r['latP50Ms']:.1f}/{r['latP99Ms']:.1f} ms  ws CPU {r['serverCpuUsPerDelivery']:.1f} µs/delivery"
          f"  Redis CPU {redis_us:.1f} µs/message")
PY

workload() { # name, chatload args...
	local name=$1; shift
	local rports=() rpids=() wpids=() urls=() metrics=()
	mkdir -p "$out/$name"
	# The bring-up the Go tests use (redistest.StartCluster), as a command.
	"$out/bin/redistest" cluster -masters 3 -- --cluster-node-timeout 5000 >"$out/$name/cluster.txt" 2>"$out/$name/cluster.log" &
	local cpid=$!; pids+=("$cpid")
	for _ in $(seq 300); do grep -qx ready "$out/$name/cluster.txt" && break; sleep 0.1; done
	grep -qx ready "$out/$name/cluster.txt" || { echo "redistest cluster did not start: $(cat "$out/$name/cluster.log")" >&2; exit 1; }
	while read -r role addr pid _; do
		[ "$role" = master ] && { rports+=("${addr##*:}"); rpids+=("$pid"); }
	done <"$out/$name/cluster.txt"
	sleep 2 # a new master waits before taking writes
	local url; url=$(awk '$1 == "url" {print $2}' "$out/$name/cluster.txt")
	for i in 1 2 3; do
		local p; p=$(freeport)
		REDIS_URL=$url JWT_SECRET=$secret WS_ADDR=127.0.0.1:$p NODE_ID=ws-$i LOG_LEVEL=warn \
			WS_CONNECT_RATE=off WS_SEND_RATE=off WS_FRAME_RATE=off WS_MAX_SESSIONS_PER_USER=1000 \
			"$out/bin/ws" >"$out/$name/ws-$i.log" 2>&1 &
		pids+=($!); wpids+=($!)
		urls+=("ws://127.0.0.1:$p/ws"); metrics+=("http://127.0.0.1:$p/metrics")
	done
	for m in "${metrics[@]}"; do
		for _ in $(seq 100); do curl -fsS "${m%/metrics}/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	done
	local before=()
	for p in "${wpids[@]}" "${rpids[@]}"; do before+=("$(ticks "$p")"); done
	local recv0=()
	for m in "${metrics[@]}"; do recv0+=("$(curl -fsS "$m" | awk '/^roomwire_ws_redis_messages_received_total/ {print $2}')"); done
	echo "== $name: chatload $*"
	JWT_SECRET=$secret "$out/bin/chatload" -name "$name" -ws "$(IFS=,; echo "${urls[*]}")" -redis "$url" \
		-server-pids "$(IFS=,; echo "${wpids[*]}")" -redis-pid "$(IFS=,; echo "${rpids[*]}")" "$@" \
		2> >(grep -v '^progress' >&2) | tee "$out/$name/results.jsonl" |
		python3 "$out/summary.py"
	local i=0
	echo "  per process over the whole workload (connect, settle, phases):"
	for p in "${wpids[@]}"; do
		local recv1; recv1=$(curl -fsS "${metrics[$i]}" | awk '/^roomwire_ws_redis_messages_received_total/ {print $2}')
		printf "    ws-%d       CPU %6.2f s  RSS %5s MiB  received from Redis %s\n" $((i + 1)) \
			"$(secs "$p" "${before[$i]}")" "$(rss_mib "$p")" "$(awk -v a="$recv1" -v b="${recv0[$i]}" 'BEGIN {print a - b}')"
		i=$((i + 1))
	done
	local j=0
	for p in "${rpids[@]}"; do
		printf "    redis %-5s CPU %6.2f s  RSS %5s MiB  keys %s\n" "${rports[$j]}" \
			"$(secs "$p" "${before[$i]}")" "$(rss_mib "$p")" "$(redis-cli -p "${rports[$j]}" dbsize)"
		i=$((i + 1)); j=$((j + 1))
	done
	for p in "${wpids[@]}" "$cpid"; do kill "$p" 2>/dev/null || true; done
	wait "${wpids[@]}" "$cpid" 2>/dev/null || true
}

workload C2 -conns "${BENCH_C2_CONNS:-3000}" -room-size 2 -rate 1 -duration "$dur" -json
workload C3 -rooms 1 -room-size "${BENCH_C3_SUBS:-900}" -publishers 10 -total-rate 50,200 -duration "$dur" -json
