#!/usr/bin/env bash
# make test-postman: run the Postman collection with newman against the real
# services: a private redis-server, bin/api and one bin/ws (from make build),
# all on free loopback ports with a random JWT secret, plus a live STOMP
# session of user B (session.mjs) that the collection sees in presence and
# ends with POST /chat-room/disconnect. Exits non-zero on any failure.
#
# Logs (redis, api, ws, session, newman's JSON report) go to
# $POSTMAN_ARTIFACTS (default: a temporary directory, removed when the run
# passes) and are printed on failure. Never touches the Redis on 6379.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd ../.. && pwd)"
bin="${POSTMAN_BIN:-$root/bin}"

for tool in node redis-server; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "postman: $tool is required (.ci/run installs it)" >&2
    exit 1
  fi
done
for b in api ws chatctl; do
  if [ ! -x "$bin/$b" ]; then
    echo "postman: $bin/$b is missing: run \`make build\` at the repository root first" >&2
    exit 1
  fi
done

# npm writes node_modules/.package-lock.json on every install: reinstall when
# it is missing or older than the committed lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "postman: npm ci"
  npm ci --no-audit --no-fund
fi
node build-collection.mjs --check

# A temporary directory of our own is removed after a successful run.
art="${POSTMAN_ARTIFACTS:-}"
own_art=0
if [ -z "$art" ]; then
  art="$(mktemp -d -t roomwire-postman.XXXXXX)"
  own_art=1
fi
mkdir -p "$art"

pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for f in redis api ws session; do
      [ -s "$art/$f.log" ] || continue
      echo "---- $f.log (last 40 lines)"
      tail -n 40 "$art/$f.log"
    done
    echo "postman: FAILED (logs in $art)" >&2
  elif [ "$own_art" = 1 ]; then
    rm -rf "$art"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
# wait_for NAME CMD...: retries CMD for up to 10 s.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "postman: $what did not come up" >&2
  return 1
}
http_ok() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"
}
redis_ok() (
  exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && IFS= read -r -t 1 line <&3 && [ "${line%$'\r'}" = "+PONG" ]
)

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$art" \
  --logfile "$art/redis.log" &
pids+=($!)
wait_for "redis-server on :$redis_port" redis_ok "$redis_port"

secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
api_port=$(free_port)
ws_port=$(free_port)
export REDIS_URL="redis://127.0.0.1:$redis_port/0" JWT_SECRET="$secret" LOG_LEVEL="${LOG_LEVEL:-info}"
unset DEV_MODE
API_ADDR="127.0.0.1:$api_port" "$bin/api" >"$art/api.log" 2>&1 &
pids+=($!)
WS_ADDR="127.0.0.1:$ws_port" NODE_ID=ws-postman "$bin/ws" >"$art/ws.log" 2>&1 &
pids+=($!)
wait_for "api on :$api_port" http_ok "http://127.0.0.1:$api_port/readyz"
wait_for "ws on :$ws_port" http_ok "http://127.0.0.1:$ws_port/readyz"
echo "postman: redis :$redis_port, api :$api_port, ws :$ws_port"

# The users of the run (a fresh Redis, so fixed ids) and B's live session.
user_a=8 user_b=3 user_c=5
token_b=$("$bin/chatctl" token -user "$user_b" -ttl 10m)
node session.mjs --api "http://127.0.0.1:$api_port" --ws "ws://127.0.0.1:$ws_port/ws" \
  --token "$token_b" --user "$user_b" --timeout 180 >"$art/session.log" 2>&1 &
session=$!

set +e
node_modules/.bin/newman run roomwire.postman_collection.json \
  --environment local.postman_environment.json \
  --env-var "baseUrl=http://127.0.0.1:$api_port" --env-var "jwtSecret=$secret" \
  --env-var "userA=$user_a" --env-var "userB=$user_b" --env-var "userC=$user_c" --env-var liveSession=1 \
  --timeout-request 30000 --reporters cli,json --reporter-json-export "$art/newman.json" --color off
newman_rc=$?
set -e

# The disconnect request must have closed B's socket (close code 1000).
session_rc=0
for _ in $(seq 100); do kill -0 "$session" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$session" 2>/dev/null; then
  kill -TERM "$session" 2>/dev/null || true
  echo "postman: B's STOMP session was still open after the disconnect request" >&2
  session_rc=1
fi
wait "$session" || session_rc=$?
if [ "$session_rc" -ne 0 ]; then
  echo "postman: the live session failed (exit $session_rc): $(tr '\n' ' ' <"$art/session.log")" >&2
fi

node -e '
const run = require(process.argv[1]).run;
const failed = run.stats.assertions.failed + run.failures.filter((f) => f.error && f.error.name !== "AssertionError").length;
console.log(`postman: ${run.stats.assertions.total - run.stats.assertions.failed} passed, ${failed} failed`);
' "$art/newman.json" || true

if [ "$newman_rc" -ne 0 ] || [ "$session_rc" -ne 0 ]; then
  exit 1
fi
