#!/usr/bin/env bash
# make run: start the whole system on local defaults.
# - Redis: reuse the one at REDIS_URL if it answers; otherwise start a private
#   redis-server (installing Debian's package first when missing and root).
# - Build bin/api, bin/ws, bin/chatctl and start api (:8080) and ws (:8081)
#   with DEV_MODE=1 (public development JWT secret) unless JWT_SECRET is set.
# - Build the web client (web/build.sh: npm ci on first use, vite build) and
#   serve web/dist on WEB_PORT (:5173) with web/serve.mjs; its dev sign-in is
#   on only with the development secret (no JWT_SECRET).
# - With ARCHIVE_DATABASE_URL set (deploy/local/archive.sh, make run-archive,
#   sets it), also build and start bin/archiver (ARCHIVER_ADDR, :8082) before
#   api and ws, which get the same ARCHIVE_* environment. Without it nothing
#   of the archive runs.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

state=.run
mkdir -p "$state"
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

export REDIS_URL="${REDIS_URL:-redis://localhost:6379/0}"
if [[ "$REDIS_URL" == redis*+cluster://* ]]; then
  echo "using the Redis Cluster at $REDIS_URL"
elif [[ "$REDIS_URL" == redis*+sentinel://* ]]; then
  echo "using the Redis Sentinel set-up at $REDIS_URL"
elif command -v redis-cli >/dev/null && [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = "PONG" ]; then
  echo "using the Redis at $REDIS_URL"
else
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing Debian's redis-server package..."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
      echo "redis-server is not installed; run: sudo apt-get install redis-server" >&2
      exit 1
    fi
  fi
  port=6390
  while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes --dir "$PWD/$state" \
    --logfile "$PWD/$state/redis.log" &
  pids+=($!)
  export REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 50); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  echo "started a private Redis at $REDIS_URL (data in $state/)"
fi

make --no-print-directory build

# The web client: skipped (with a warning) rather than failing the run.
WEB_PORT="${WEB_PORT:-5173}"
web_ok=0
if ! command -v node >/dev/null; then
  echo "node is not installed: skipping the web client (install Node 20)" >&2
elif (exec 3<>/dev/tcp/127.0.0.1/$WEB_PORT) 2>/dev/null; then
  echo "port $WEB_PORT is in use: skipping the web client (set WEB_PORT)" >&2
elif bash web/build.sh; then
  web_ok=1
else
  echo "building the web client failed: skipping it" >&2
fi
web_origins="http://localhost:$WEB_PORT,http://127.0.0.1:$WEB_PORT"
# Vite's dev server (cd web && npm run dev) is on :5173: allow it too.
[ "$WEB_PORT" = 5173 ] || web_origins+=",http://localhost:5173,http://127.0.0.1:5173"

if [ -z "${JWT_SECRET:-}" ]; then export DEV_MODE=1; fi
export API_ADDR="${API_ADDR:-:8080}" WS_ADDR="${WS_ADDR:-:8081}"
export WS_ALLOWED_ORIGINS="${WS_ALLOWED_ORIGINS:-http://localhost:8080,http://127.0.0.1:8080,$web_origins}"
export API_ALLOWED_ORIGINS="${API_ALLOWED_ORIGINS:-$web_origins}"

archive=0
if [ -n "${ARCHIVE_DATABASE_URL:-}" ]; then
  archive=1
  export ARCHIVER_ADDR="${ARCHIVER_ADDR:-:8082}"
  # It applies the schema migrations before it listens: wait for that, so
  # api and ws start on a migrated database.
  bin/archiver & archiver_pid=$!
  pids+=("$archiver_pid")
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:${ARCHIVER_ADDR##*:}/healthz" >/dev/null 2>&1 && break
    kill -0 "$archiver_pid" 2>/dev/null || { echo "the archiver exited (see above)" >&2; exit 1; }
    sleep 0.1
  done
fi

bin/api & pids+=($!)
NODE_ID="${NODE_ID:-ws-local}" bin/ws & pids+=($!)
if [ "$web_ok" = 1 ]; then
  web_dev=()
  if [ -z "${JWT_SECRET:-}" ]; then web_dev=(--dev); fi
  node web/serve.mjs --port "$WEB_PORT" --host "${WEB_HOST:-127.0.0.1}" \
    --api "${WEB_API_URL:-http://localhost:${API_ADDR##*:}}" --ws "${WEB_WS_URL:-ws://localhost:${WS_ADDR##*:}/ws}" \
    "${web_dev[@]}" & pids+=($!)
fi

for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:${API_ADDR##*:}/readyz" >/dev/null 2>&1 &&
    curl -fsS "http://127.0.0.1:${WS_ADDR##*:}/readyz" >/dev/null 2>&1 &&
    { [ "$web_ok" = 0 ] || curl -fsS "http://127.0.0.1:$WEB_PORT/config.js" >/dev/null 2>&1; } &&
    { [ "$archive" = 0 ] || curl -fsS "http://127.0.0.1:${ARCHIVER_ADDR##*:}/readyz" >/dev/null 2>&1; } && break
  sleep 0.1
done

cat <<MSG

roomwire is running.
  REST API   http://localhost:${API_ADDR##*:}/api/v1   (health: /healthz, /readyz)
  WebSocket  ws://localhost:${WS_ADDR##*:}/ws          (STOMP 1.2; @stomp/stompjs brokerURL)
  Redis      $REDIS_URL
$(if [ "$archive" = 1 ]; then
  # The database without its password and options.
  echo "  Archive    $(sed -e 's#//[^@/]*@#//#' -e 's#?.*##' <<<"$ARCHIVE_DATABASE_URL")   (archiver: http://localhost:${ARCHIVER_ADDR##*:}/readyz, /metrics)"
fi)
$(if [ "$web_ok" = 1 ]; then
  echo "  Web client http://localhost:$WEB_PORT            ($([ -z "${JWT_SECRET:-}" ] && echo 'sign in with any user id: development tokens' || echo 'paste a token signed with JWT_SECRET'))"
  echo "             http://localhost:$WEB_PORT/examples/seed-app/   (the seed's App: user 8 in room 2)"
else
  echo "  Web client not started (see above)"
fi)

Mint a development token for user 8:
  DEV_MODE=1 bin/chatctl token -user 8
Try it:
  TOKEN=\$(DEV_MODE=1 bin/chatctl token -user 8)
  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"type":"direct","memberIds":[3]}' http://localhost:${API_ADDR##*:}/api/v1/chat-rooms

Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
