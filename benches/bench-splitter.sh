#!/usr/bin/env bash
# benches/bench-splitter.sh — res's proxy as a weighted splitter against the plain proxy.
#
# Starts nginx on 127.0.0.1 serving a 1 KiB file on two ports, builds res in release, and
# measures keep-alive throughput and p50/p99 with wrk: direct, through a one-upstream proxy
# (`res chaos _proxy-bench --mode http`), and through `res proxy serve --mode http` splitting
# over the two ports by weight (100/100). Goal: the splitter within 5 % of the one-upstream
# proxy's throughput and p50 (the choice is one atomic load and one fetch_add per request).
# Then it changes the weights through the admin API 100 times during a run and reports the
# slowest change. Needs a quiet machine; not run by the tests.
#
# Knobs: DURATION (s per wrk run, default 10), CONNS (default 50), THREADS (default 2),
# PORT (nginx, default 18490; PORT+1 is the second), SKIP_BUILD=1, RES (the binary).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
PORT=${PORT:-18490}
PORT2=$((PORT + 1))
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v wrk >/dev/null || { echo "bench-splitter: needs wrk and nginx (see bench-proxy.sh)" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "bench-splitter: needs nginx" >&2; exit 1; }

if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --quiet
fi
RES=${RES:-./target/release/res}

tmp=$(mktemp -d /tmp/res-bench-splitter.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$tmp"
}
trap cleanup EXIT

chmod 755 "$tmp"
mkdir -p "$tmp/www" "$tmp/temp"
head -c 1024 /dev/urandom >"$tmp/www/1k"
chmod 644 "$tmp/www/1k"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
daemon on;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $tmp/temp;
  proxy_temp_path $tmp/temp;
  fastcgi_temp_path $tmp/temp;
  uwsgi_temp_path $tmp/temp;
  scgi_temp_path $tmp/temp;
  server { listen 127.0.0.1:$PORT; listen 127.0.0.1:$PORT2; root $tmp/www; }
}
EOF
"$NGINX" -p "$tmp" -c "$tmp/nginx.conf"
sleep 0.3

# wait_for FILE PATTERN — the first line of FILE matching PATTERN, within 5 s.
wait_for() {
  for _ in $(seq 100); do
    grep -m1 "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "no '$2' in $1" >&2
  exit 1
}

"$RES" chaos _proxy-bench --upstream "127.0.0.1:$PORT" --mode http >"$tmp/single.out" 2>&1 &
pids+=($!)
SINGLE=$(wait_for "$tmp/single.out" "listening on" | sed 's/^listening on //')

"$RES" proxy serve --listen 127.0.0.1:0 --mode http \
  --server "a=127.0.0.1:$PORT,weight=100" --server "b=127.0.0.1:$PORT2,weight=100" \
  >"$tmp/split.out" 2>&1 &
pids+=($!)
SPLIT=$(wait_for "$tmp/split.out" "^proxy " | sed 's|^proxy  http://||')
ADMIN=$(wait_for "$tmp/split.out" "^admin " | sed 's|^admin  ||')

run() {
  local label=$1 url=$2
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url")
  printf '%-28s %10s req/s  p50 %8s  p99 %8s\n' "$label" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}

run "direct" "http://127.0.0.1:$PORT/1k"
run "proxy, one upstream" "http://$SINGLE/1k"
run "proxy, split 100/100" "http://$SPLIT/1k"

# Weight changes under load: the slowest POST /servers of 100.
run "split, reweighted 100x" "http://$SPLIT/1k" &
wrk_pid=$!
sleep 1
slowest=0
for i in $(seq 100); do
  w=$((i % 2 == 0 ? 10 : 190))
  t=$(curl -s -o /dev/null -w '%{time_total}' -X POST "$ADMIN" \
    -d "{\"set\": [{\"name\": \"a\", \"weight\": $w}]}")
  slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
  sleep 0.05
done
wait "$wrk_pid"
echo "slowest weight change under load: ${slowest}s"
curl -s "$ADMIN" | grep -E '"(name|sent|errors)"' | paste - - - || true
