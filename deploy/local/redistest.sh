# Sourced by cluster.sh and sentinel.sh (make run-cluster, make run-sentinel):
# the Redis set-up comes from `redistest` (shared/testsupport/redistest/cmd/redistest),
# the bring-up the Go tests and the e2e harness use. Sets up the pids array
# and a trap that stops everything in it on Ctrl-C or exit.
export PATH="$PATH:/usr/local/go/bin"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# redistest_up KIND DIR HINT ARGS...: builds .run/bin/redistest, starts
# `redistest KIND ARGS...` in the background (its listing in
# DIR/redistest.txt, its log in DIR/redistest.log), waits for its "ready"
# line and sets REDIS_URL to the URL it printed. On failure it prints the
# log and HINT and exits.
redistest_up() {
  local kind=$1 dir=$2 hint=$3
  shift 3
  mkdir -p "$dir" .run/bin
  "${GO:-go}" build -o .run/bin/redistest ./shared/testsupport/redistest/cmd/redistest
  .run/bin/redistest "$kind" "$@" >"$dir/redistest.txt" 2>"$dir/redistest.log" &
  local pid=$!
  pids+=("$pid")
  until grep -qx ready "$dir/redistest.txt"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "redistest $kind failed: $(cat "$dir/redistest.log")" >&2
      echo "$hint" >&2
      exit 1
    fi
    sleep 0.1
  done
  REDIS_URL=$(awk '$1 == "url" {print $2}' "$dir/redistest.txt")
}
