#!/usr/bin/env bash
# make bench: the Go benchmarks of every module, then the load workloads of
# issue 8 against a private Redis, api and ws node started here, with one
# table of figures at the end.
#
#   W1      idle: 1k, 10k (and 50k) connections in rooms of 2, 50 connecting
#           in parallel; memory per connection and connect time
#   W2      one-to-one: 2,000 connections in 1,000 rooms, every user sends
#           1 msg/s for 30 s (4,000 deliveries/s)
#   W2a     W2 with the PostgreSQL archive on (issue 16): ws and api with
#           ARCHIVE_DATABASE_URL (send.lua also appends every message to
#           the archive stream) and bin/archiver copying it into a fresh
#           database on the local PostgreSQL (PGHOST:PGPORT, 127.0.0.1:5432,
#           user PGUSER postgres), dropped afterwards; skipped when
#           PostgreSQL does not answer. A line after the table sets its
#           latency and CPU beside W2's (the archive's own CPU apart)
#   W2i     W2 with an independent STOMP client's settings (issue 18), on a
#           fresh system after W2: CONNECT heart-beat:0,0 and no beats, SENDs
#           with content-type:application/json and no receipt, text
#           "~<stamp>~xxxx" of 100 bytes, every publisher sending from its
#           own random phase (chatload -independent -payload 100)
#   W1s, W2s  W1 (10,000 connections, 50 at once) and W2 with a second
#           client that shares no code with chatload: the real
#           @stomp/stompjs as the seed React app uses it
#           (e2e/bench/stompload.mjs; rooms made over the REST API, default
#           heart-beats, the seed's CONNECT headers and SEND body, 100-byte
#           texts, every user from its own random phase); skipped without
#           node or the api
#   F       this machine's floor beside W1 and W2 (tools/chatload/floor):
#           10,000 bare WebSocket handshakes (4,000 with BENCH_QUICK), CPU
#           per paced loopback message read by a Go process, and W2's skeleton
#           with roomwire's real Redis work and no protocol (a plain-TCP
#           relay running send.lua per message), with and without the
#           pub/sub hop
#   W3      fan-out: 1 room, 1,000 subscribers, 50 msg/s, then the ramp at
#           100/150/200/400 msg/s (10 publishers share the rate)
#   W3i     W3 with the independent client's settings (as W2i), on a fresh
#           system after W3
#
# Every workload gets a fresh Redis and ws node (clean memory baselines).
# Rooms are seeded straight into Redis through the shared room store.
#
# Environment:
#   BENCH_QUICK=1     reduced scale and short phases (about a minute); Go
#                     benchmarks as a smoke run (-benchtime=1x)
#   BENCH_GO=0        skip the Go benchmarks;  BENCH_LOAD=0  skip the workloads
#   BENCH_50K=0       skip W1 at 50k connections (also skipped when the open
#                     file limit cannot be raised to 110,000; with at least
#                     17,000, W1 runs at 1k/2k/4k/8k/10k/16k instead)
#   BENCH_PROFILE=1   run every ws node inside its test binary (ws/cmd/ws
#                     TestProfileServe); chatload -profile-signals makes it
#                     write a CPU profile of every measured window and a
#                     heap profile at the end of each W1 hold
#   BENCH_CHATLOAD_PROFILE=1  chatload's own CPU profile, NAME/chatload-cpu.pprof
#   BENCH_WS_PROCS=1  GOMAXPROCS of the ws node (default: every core)
#   BENCH_ONLY="W1 W3"  run only these workloads (W1, W1s, W2, W2a, W2i, W2s,
#                     F, W3, W3i)
#   BENCH_W1S_SIZE=10000  W1s's connection count (4,000 with BENCH_QUICK)
#   BENCH_W1_SIZES="10000"  W1 connection counts (default 1000 10000 [50000])
#   BENCH_W2_DURATION=10s   W2, W2a, W2i and W2s phase length (default 30s)
#   BENCH_W3_RATES=50,400   W3 total rates, one phase each (default
#                     50,100,150,200,400);  BENCH_W3_DURATION=10s (default 15s)
#   BENCH_TIME=1s     -benchtime of the Go benchmarks
#   BENCH_OUT=dir     where logs and results go (default /tmp/roomwire-bench/<time>)
#   BENCH_WS_BIN=dir  take ws (and ws.test) from dir instead of building them,
#                     e.g. an earlier run's bin/: before/after under the same
#                     conditions
# It never touches the Redis on 6379.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
GO=${GO:-go}
# Only W2a turns the archive on, with a database of its own.
unset ARCHIVE_DATABASE_URL

quick=${BENCH_QUICK:-0}
out=${BENCH_OUT:-${TMPDIR:-/tmp}/roomwire-bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
results=$out/results.jsonl
: >"$results"
echo "bench: logs and results in $out"

# ---------------------------------------------------------------- Go benchmarks
if [ "${BENCH_GO:-1}" != 0 ]; then
	benchtime=${BENCH_TIME:-1s}
	[ "$quick" = 1 ] && benchtime=1x
	for m in shared api ws; do
		echo "== $m: go test -bench . -benchtime=$benchtime"
		# A package that does not build is reported, and the rest still runs.
		(cd "$m" && $GO test -run '^$' -bench . -benchmem -benchtime="$benchtime" ./...) 2>&1 |
			grep -v '^\(goos\|goarch\|cpu\|PASS\|ok \|?\)' | tee -a "$out/gobench.txt" ||
			echo "bench: some Go benchmarks of $m failed (see above)"
	done
fi
[ "${BENCH_LOAD:-1}" = 0 ] && exit 0

# ---------------------------------------------------------------- build
echo "== building api, ws, archiver, chatload"
# The workloads seed rooms through Redis and need only ws; the api is
# started beside it when it builds (chatload -seed api can then be used).
have_api=1
$GO build -o "$out/bin/api" ./api/cmd/api || { have_api=0; echo "bench: api does not build; running without it"; }
$GO build -o "$out/bin/chatload" ./tools/chatload
$GO build -o "$out/bin/floor" ./tools/chatload/floor
have_archiver=1
$GO build -o "$out/bin/archiver" ./api/cmd/archiver || { have_archiver=0; echo "bench: the archiver does not build; W2a is skipped"; }
if [ -n "${BENCH_WS_BIN:-}" ]; then
	cp "$BENCH_WS_BIN/ws" "$out/bin/ws"
	[ "${BENCH_PROFILE:-0}" = 1 ] && cp "$BENCH_WS_BIN/ws.test" "$out/bin/ws.test"
else
	$GO build -o "$out/bin/ws" ./ws/cmd/ws
	if [ "${BENCH_PROFILE:-0}" = 1 ]; then
		$GO test -c -o "$out/bin/ws.test" ./ws/cmd/ws
	fi
fi

# Sockets: every connection is one descriptor in chatload and one in ws.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
echo "bench: open files limit $nofile"

# ---------------------------------------------------------------- processes
pids=()
archive_db=''
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	# W2a's database, once nothing uses it any more.
	if [ -n "$archive_db" ]; then
		psql -d postgres -w -Atqc "DROP DATABASE IF EXISTS $archive_db WITH (FORCE)" >/dev/null || echo "bench: could not drop the database $archive_db" >&2
		archive_db=''
		unset ARCHIVE_DATABASE_URL
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

wait_ready() { # url what
	for _ in $(seq 100); do
		curl -fsS "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: $2 did not become ready; see $out" >&2
	return 1
}

profile=${BENCH_PROFILE:-0}
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
redis_pid='' ws_pid='' api_pid='' archiver_pid=''
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

# pg_ok: the local PostgreSQL answers and lets PGUSER in (W2a then creates its database).
pg_ok() {
	command -v psql >/dev/null && psql -d postgres -w -Atqc 'select 1' >/dev/null 2>&1
}

# proc_cpu_ticks PID...: utime + stime (clock ticks) summed over the
# processes that still exist (fields 14 and 15 of /proc/PID/stat, counted
# after the command's closing parenthesis).
proc_cpu_ticks() {
	local total=0 p st f
	for p in "$@"; do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -ra f <<<"${st##*) }" # f[0] is field 3 (state)
		total=$((total + f[11] + f[12]))
	done
	echo "$total"
}

# archive_backends: PIDs of the PostgreSQL backends serving W2a's database.
archive_backends() {
	{ psql -d postgres -w -Atqc "select pid from pg_stat_activity where datname = '$archive_db'" 2>/dev/null || true; } | tr '\n' ' '
}

# start_system NAME [archive]: a fresh Redis, api and ws node for one
# workload; with "archive" also a fresh database and bin/archiver, and the
# ARCHIVE_* environment for api and ws. With BENCH_PROFILE=1 the node runs
# inside its test binary (TestProfileServe), which writes profiles into
# $out/NAME when chatload signals it.
start_system() {
	local name=$1 archive=${2:-}
	local rport wport aport
	rport=$(free_port 6420)
	mkdir -p "$out/$name"
	redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$out/$name" --logfile "$out/$name/redis.log" &
	redis_pid=$!
	pids+=("$redis_pid")
	for _ in $(seq 50); do [ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
	export REDIS_URL="redis://127.0.0.1:$rport/0" JWT_SECRET="$secret" LOG_LEVEL=warn
	# Many connections come from one address here: lift the per-IP connect
	# and per-session send limits (security features, issue 4), as a real
	# deployment's clients come from many addresses.
	export WS_CONNECT_RATE=off WS_SEND_RATE=off WS_FRAME_RATE=off SHUTDOWN_TIMEOUT=3s
	wport=$(free_port 18181)
	aport=$(free_port 18280)
	if [ "$archive" = archive ]; then
		archive_db="bench_archive_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
		psql -d postgres -w -Atqc "CREATE DATABASE $archive_db" >/dev/null
		export ARCHIVE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$archive_db?sslmode=disable"
		local xport
		xport=$(free_port 18380)
		# It applies the migrations before it listens.
		ARCHIVER_ADDR="127.0.0.1:$xport" ARCHIVER_CONSUMER="bench-$name" "$out/bin/archiver" >"$out/$name/archiver.log" 2>&1 &
		archiver_pid=$!
		pids+=("$archiver_pid")
		wait_ready "http://127.0.0.1:$xport/readyz" archiver
		archiver_url="http://127.0.0.1:$xport"
	fi
	if [ "$profile" = 1 ]; then
		WS_ADDR="127.0.0.1:$wport" NODE_ID="bench-$name" ROOMWIRE_PROFILE_DIR="$out/$name" ROOMWIRE_PROFILE_SERVE=30m \
			"$out/bin/ws.test" -test.run '^TestProfileServe$' -test.timeout 0 >"$out/$name/ws.log" 2>&1 &
	else
		GOMAXPROCS=${BENCH_WS_PROCS:-} WS_ADDR="127.0.0.1:$wport" NODE_ID="bench-$name" "$out/bin/ws" >"$out/$name/ws.log" 2>&1 &
	fi
	ws_pid=$!
	pids+=("$ws_pid")
	wait_ready "http://127.0.0.1:$wport/readyz" ws
	if [ "$have_api" = 1 ]; then
		API_ADDR="127.0.0.1:$aport" "$out/bin/api" >"$out/$name/api.log" 2>&1 &
		api_pid=$!
		pids+=("$api_pid")
		wait_ready "http://127.0.0.1:$aport/readyz" api
	fi
	ws_url="ws://127.0.0.1:$wport/ws"
	api_url="http://127.0.0.1:$aport"
}

stop_system() {
	cleanup
}

# load NAME ARGS...: chatload against the running system, results appended.
load() {
	local name=$1
	shift
	echo "== $name: chatload $*"
	local sig=()
	[ "$profile" = 1 ] && sig=(-profile-signals)
	[ "${BENCH_CHATLOAD_PROFILE:-0}" = 1 ] && sig+=(-cpuprofile "$out/$name/chatload-cpu.pprof")
	"$out/bin/chatload" -name "$name" -ws "$ws_url" -redis "$REDIS_URL" -jwt-secret "$secret" \
		-server-pids "$ws_pid" -redis-pid "$redis_pid" -json "${sig[@]}" "$@" \
		>>"$results" 2> >(tee "$out/$name.log" >&2)
}

# stompload NAME ARGS...: the second client (e2e/bench/stompload.mjs, the
# real @stomp/stompjs used as the seed app uses it) against the running
# system; its result line joins chatload's in the table.
stompload() {
	local name=$1
	shift
	echo "== $name: stompload $*"
	node e2e/bench/stompload.mjs -name "$name" -ws "$ws_url" -api "$api_url" -jwt-secret "$secret" \
		-server-pids "$ws_pid" -redis-pid "$redis_pid" "$@" \
		>>"$results" 2> >(tee "$out/$name.log" >&2) || echo "bench: $name reported a failure (see $out/$name.log)"
}

# have_stompjs: node, the api (rooms are made over REST) and e2e's
# node_modules (installed here when missing) are there for stompload.
have_stompjs() {
	[ "$have_api" = 1 ] && command -v node >/dev/null || return 1
	[ -d e2e/node_modules/@stomp/stompjs ] || (cd e2e && npm ci --no-audit --no-fund >/dev/null 2>&1) || return 1
}

# ---------------------------------------------------------------- workloads
load_start=$SECONDS
if [ "$quick" = 1 ]; then
	w1_sizes="1000 4000" w1_hold=2s w1_settle=1s drain=3s
	w2="-rooms 200 -duration 3s"
	w3="-room-size 200 -total-rate 50,400 -duration 2s"
else
	w1_sizes="1000 10000" w1_hold=15s w1_settle=3s drain=5s
	if [ "${BENCH_50K:-1}" != 0 ]; then
		if [ "$nofile" = unlimited ] || [ "$nofile" -ge 110000 ]; then
			w1_sizes="$w1_sizes 50000"
		elif [ "$nofile" -ge 17000 ]; then
			# The cost curve by doubling, as far as the limit allows.
			w1_sizes="1000 2000 4000 8000 10000 16000"
			echo "bench: open files limit $nofile is too low for 50k connections; W1 doubles from 1k to 16k instead"
		else
			echo "bench: open files limit $nofile is too low for 50k connections; skipping W1-50k"
		fi
	fi
	w2="-rooms 1000 -duration 30s"
	w3="-room-size 1000 -total-rate 50,100,150,200,400 -duration 15s"
fi
w1_sizes=${BENCH_W1_SIZES:-$w1_sizes}
[ -n "${BENCH_W2_DURATION:-}" ] && w2="$w2 -duration $BENCH_W2_DURATION"
[ -n "${BENCH_W3_RATES:-}" ] && w3="$w3 -total-rate $BENCH_W3_RATES"
[ -n "${BENCH_W3_DURATION:-}" ] && w3="$w3 -duration $BENCH_W3_DURATION"
only=" ${BENCH_ONLY:-W1 W1s W2 W2a W2i W2s F W3 W3i} "
stompjs_ok=1
if [[ $only == *" W1s "* || $only == *" W2s "* ]] && ! have_stompjs; then
	stompjs_ok=0
	echo "bench: W1s and W2s skipped: they need node, the api and e2e's node_modules (npm ci in e2e)"
fi
[[ $only == *" W1 "* ]] || w1_sizes=''
for n in $w1_sizes; do
	name="W1-$((n / 1000))k"
	start_system "$name"
	load "$name" -idle -rooms $((n / 2)) -room-size 2 -connect-parallel 50 -duration "$w1_hold" -settle "$w1_settle" \
		-source-ips $(((n + 24999) / 25000))
	stop_system
done

# W1s: W1's connect phase with stompjs (10,000 users, 4,000 with
# BENCH_QUICK; BENCH_W1S_SIZE), 50 connecting at once.
if [[ $only == *" W1s "* ]] && [ "$stompjs_ok" = 1 ]; then
	n=${BENCH_W1S_SIZE:-10000}
	[ "$quick" = 1 ] && n=${BENCH_W1S_SIZE:-4000}
	start_system W1s
	stompload W1s -idle -rooms $((n / 2)) -connect-parallel 50 -settle $((${w1_hold%s} + ${w1_settle%s}))
	stop_system
fi

if [[ $only == *" W2 "* ]]; then
	start_system W2
	# shellcheck disable=SC2086
	load W2 $w2 -room-size 2 -publishers 2 -rate 1 -payload 64 -drain "$drain"
	stop_system
fi

if [[ $only == *" W2a "* ]]; then
	if [ "$have_archiver" = 0 ]; then
		echo "bench: W2a skipped: the archiver does not build"
	elif ! pg_ok; then
		echo "bench: W2a skipped: PostgreSQL at $PGHOST:$PGPORT does not accept user $PGUSER (set PGHOST/PGPORT/PGUSER/PGPASSWORD)"
	else
		start_system W2a archive
		# The archive side's CPU (archiver and the PostgreSQL backends of
		# its database; not PostgreSQL's shared background processes) over
		# the whole run: connect, send, drain, and the archiver's catch-up.
		backends=$(archive_backends)
		archive_cpu0=$(proc_cpu_ticks "$archiver_pid" $backends)
		# shellcheck disable=SC2086
		load W2a $w2 -room-size 2 -publishers 2 -rate 1 -payload 64 -drain "$drain"
		for _ in $(seq 100); do
			[ "$(curl -fsS "$archiver_url/readyz" 2>/dev/null | sed -n 's/.*"backlogEntries":\([0-9]*\).*/\1/p')" = 0 ] && break
			sleep 0.1
		done
		# Backends opened during the run count from zero (their whole life).
		new_backends=$(comm -13 <(tr ' ' '\n' <<<"$backends" | sort) <(archive_backends | tr ' ' '\n' | sort) | tr '\n' ' ')
		archive_ticks=$(($(proc_cpu_ticks "$archiver_pid" $backends $new_backends) - archive_cpu0))
		archive_rows=$(psql -d "$archive_db" -w -Atqc 'select count(*) from messages' 2>/dev/null || echo '?')
		echo "$archive_ticks $archive_rows" >"$out/W2a/archive.txt"
		echo "W2a: archiver + PostgreSQL backends used $((archive_ticks * 10)) ms CPU; $archive_rows messages in PostgreSQL"
		stop_system
	fi
fi

if [[ $only == *" W2i "* ]]; then
	start_system W2i
	# shellcheck disable=SC2086
	load W2i $w2 -room-size 2 -publishers 2 -rate 1 -payload 100 -drain "$drain" -independent
	stop_system
fi

# W2s: W2 with stompjs, as the seed app sends (payload 100 bytes).
if [[ $only == *" W2s "* ]] && [ "$stompjs_ok" = 1 ]; then
	start_system W2s
	w2s_rooms=$(sed -n 's/.*-rooms \([0-9]*\).*/\1/p' <<<"$w2")
	w2s_duration=$(grep -o -- '-duration [0-9]*' <<<"$w2" | tail -n 1 | cut -d' ' -f2)
	stompload W2s -rooms "$w2s_rooms" -rate 1 -duration "$w2s_duration" -payload 100 -drain "${drain%s}"
	stop_system
fi

# F: this machine's floor (tools/chatload/floor), beside W1 and W2: bare
# WebSocket handshakes, 50 at once (W1 without STOMP, JWT or Redis); what a
# Go process pays to read one paced loopback message; and W2's skeleton with
# roomwire's real Redis work (send.lua, the notifier, the registry) and no
# other: a relay that writes the script's reply (F) or what Redis publishes
# (F-pubsub) to both members, over plain TCP.
if [[ $only == *" F "* ]]; then
	start_system F
	f_pairs=$(sed -n 's/.*-rooms \([0-9]*\).*/\1/p' <<<"$w2")
	f_duration=$(grep -o -- '-duration [0-9a-z]*' <<<"$w2" | tail -n 1 | cut -d' ' -f2)
	f_conns=10000
	[ "$quick" = 1 ] && f_conns=4000
	echo "== F: floor connect ($f_conns, 50 at once); floor hop at 2,000 and 6,000 messages/s; floor relay, $f_pairs pairs, 1 msg/s each, $f_duration"
	for a in "connect -conns $f_conns" "hop -conns 400 -rate 5" "hop -conns 400 -rate 15" "relay" "relay -pubsub"; do
		extra=(-duration "$f_duration")
		[[ $a == relay* ]] && extra+=(-redis "$REDIS_URL" -redis-pid "$redis_pid" -pairs "$f_pairs")
		# shellcheck disable=SC2086
		"$out/bin/floor" $a "${extra[@]}" >>"$out/F/floor.jsonl" 2>>"$out/F/floor.txt" ||
			echo "bench: floor $a failed (see $out/F/floor.txt)"
	done
	stop_system
fi

if [[ $only == *" W3 "* ]]; then
	start_system W3
	# shellcheck disable=SC2086
	load W3 $w3 -rooms 1 -publishers 10 -payload 64 -drain "$drain"
	stop_system
fi

if [[ $only == *" W3i "* ]]; then
	start_system W3i
	# shellcheck disable=SC2086
	load W3i $w3 -rooms 1 -publishers 10 -payload 100 -drain "$drain" -independent
	stop_system
fi

# ---------------------------------------------------------------- report
echo
echo "== figures (workloads took $((SECONDS - load_start)) s; $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg), $($GO version | cut -d' ' -f3), $(redis-server --version | grep -o 'v=[^ ]*'))"
"$out/bin/chatload" table "$results" | tee "$out/table.txt"

# result NAME KEY: a number from the first result of workload NAME.
result() {
	grep -F "\"name\":\"$1\"" "$results" | head -n 1 | sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p"
}
# The archive's cost (issue 16): W2a beside W2. Latency is chatload's
# delivery latency (send stamp to MESSAGE at a subscriber: the SEND, the
# send script with its XADD, the fan-out); CPU per delivery as in the table
# (ws + Redis, send window), plus the archiver's and its PostgreSQL
# backends' CPU over W2a's whole run per delivery.
if [ -s "$out/W2a/archive.txt" ] && [ -n "$(result W2a received)" ]; then
	read -r archive_ticks archive_rows <"$out/W2a/archive.txt"
	without="W2 not run"
	[ -n "$(result W2 received)" ] &&
		without=$(printf 'p50/p99 %.2f/%.2f ms, %.1f CPU-µs/delivery' "$(result W2 latP50Ms)" "$(result W2 latP99Ms)" "$(result W2 cpuUsPerDelivery)")
	with=$(printf 'p50/p99 %.2f/%.2f ms, %.1f CPU-µs/delivery + %.1f for the archiver and PostgreSQL' \
		"$(result W2a latP50Ms)" "$(result W2a latP99Ms)" "$(result W2a cpuUsPerDelivery)" \
		"$(awk -v t="$archive_ticks" -v n="$(result W2a received)" 'BEGIN { print (n > 0 ? t * 10000 / n : 0) }')")
	echo
	echo "archive, send-to-delivery latency and CPU (ws + Redis): without (W2) $without; with (W2a) $with; $archive_rows messages archived" |
		tee -a "$out/table.txt"
fi
if [ -s "$out/F/floor.txt" ]; then
	echo
	echo "this machine's floor (F, tools/chatload/floor; CPU-µs per delivery is relay + Redis, W2's counts):"
	sed 's/^/  /' "$out/F/floor.txt" | tee -a "$out/table.txt"
fi
if [ "$profile" = 1 ]; then
	# One CPU profile per measured window (W3: one per rate), one heap per W1.
	for f in "$out"/*/cpu-*.pprof "$out"/*/heap-*.pprof; do
		[ -s "$f" ] || continue
		$GO tool pprof -top -nodecount=40 "$out/bin/ws.test" "$f" >"${f%.pprof}.top.txt" 2>/dev/null || true
	done
	echo
	echo "== profiles (pprof -top in *.top.txt beside each):"
	ls "$out"/*/*.pprof 2>/dev/null || true
fi
