#!/usr/bin/env bash
# benches/bench-proxy.sh — the res fault proxy against direct, measured in one run.
#
# Starts nginx on 127.0.0.1 (its own config in a temp dir) serving a 1 KiB and a 1 MiB file,
# builds res in release, starts `res chaos _proxy-bench` proxies in TCP and HTTP mode, and
# measures with wrk, direct and through each proxy:
#   - keep-alive throughput (goal: ≥ 85 % of direct)
#   - new-connection rate, `Connection: close` (goal: ≥ 40 % of direct)
#   - added p50 on one connection (goal: ≤ 0.1 ms, and no 40 ms tail)
#   - a 100 ms latency fault on 1 KiB and 1 MiB (goal: p50 = 100 ± 2 ms added, p99 ≤ 105 ms)
#   - adding/removing a fault while traffic flows (goal: < 1 ms, throughput unchanged)
#   - proxy peak RSS under that load (goal: ≤ 16 MB)
#   - HAProxy, when installed, in TCP and HTTP mode beside res's two modes on keep-alive
#     1 KiB, alternated over HA_ROUNDS rounds (default 3) in the same run (issue 12's goal:
#     each res mode at or above HAProxy's same mode)
# Installs nginx and wrk with apt-get when missing (as root). Figures go to stdout and to
# $OUT (default target/bench-proxy.txt); docs/benchmarks.md records them.
#
# Knobs: DURATION (s per wrk run, default 10), CONNS (default 50), THREADS (wrk threads,
# default 2), NGINX_WORKERS (default 1), PROXY_THREADS (default 2), PORT (nginx, 18480),
# SKIP_BUILD=1 to use the release binary as it is; PARTS to run some parts only, out of
# "ka haproxy 1m close c1 fault toggle" (default all; PARTS=haproxy for issue 12's
# side-by-side alone).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
NGINX_WORKERS=${NGINX_WORKERS:-1}
PROXY_THREADS=${PROXY_THREADS:-2}
PORT=${PORT:-18480}
OUT=${OUT:-target/bench-proxy.txt}
PARTS=${PARTS:-ka haproxy 1m close c1 fault toggle}
want() { [[ " $PARTS " == *" $1 "* ]]; }

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench-proxy: needs ${need[*]} (run as root to install them with apt-get)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building res (release)…" >&2
  cargo build --release --quiet
fi
RES=./target/release/res

tmp=$(mktemp -d /tmp/res-bench-proxy.XXXXXX)
cleanup() {
  # Proxies are started inside the piped block (a subshell); their pids are in a file.
  if [ -f "$tmp/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$tmp/pids"
  fi
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  [ -f "$tmp/haproxy.pid" ] && kill "$(cat "$tmp/haproxy.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$tmp"
}
trap cleanup EXIT

chmod 755 "$tmp"
mkdir -p "$tmp/www" "$tmp/temp"
head -c 1024 /dev/urandom >"$tmp/www/1k"
head -c 1048576 /dev/urandom >"$tmp/www/1m"
chmod 644 "$tmp/www/"*
cat >"$tmp/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
daemon on;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $tmp/temp;
  proxy_temp_path $tmp/temp;
  fastcgi_temp_path $tmp/temp;
  uwsgi_temp_path $tmp/temp;
  scgi_temp_path $tmp/temp;
  server {
    listen 127.0.0.1:$PORT reuseport;
    root $tmp/www;
  }
}
EOF
"$NGINX" -p "$tmp" -c "$tmp/nginx.conf"
sleep 0.3
DIRECT=127.0.0.1:$PORT

# start_proxy NAME MODE [extra args…] — starts a proxy, sets ${NAME}_ADDR and ${NAME}_PID.
start_proxy() {
  local name=$1 mode=$2
  shift 2
  "$RES" chaos _proxy-bench --upstream "$DIRECT" --mode "$mode" --threads "$PROXY_THREADS" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local pid=$!
  echo "$pid" >>"$tmp/pids"
  for _ in $(seq 100); do
    grep -q "listening on" "$tmp/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  local addr
  addr=$(sed -n 's/^listening on //p' "$tmp/$name.out")
  [ -n "$addr" ] || { echo "proxy $name did not start: $(cat "$tmp/$name.err")" >&2; exit 1; }
  printf -v "${name}_ADDR" '%s' "$addr"
  printf -v "${name}_PID" '%s' "$pid"
}

# stop_proxy NAME — SIGTERM, wait for it to exit, print the JSON line it wrote at exit
# (stats, peak rss_kb, add/remove timings). Not to be called inside $(…): `wait` would not
# see the proxy there, so this polls.
stop_proxy() {
  local pid_var="${1}_PID"
  local pid=${!pid_var}
  kill -TERM "$pid"
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 1 "$tmp/$1.out"
}

# to_ms VALUE — wrk's "312.00us" / "1.20ms" / "1.01s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# run_wrk LABEL URL [wrk args…] — sets RPS, P50, P99 (ms).
run_wrk() {
  local label=$1 url=$2
  shift 2
  local out
  out=$(wrk --latency "$@" "$url")
  echo "$out" >"$tmp/wrk-$label.txt"
  RPS=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  P50=$(to_ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  P99=$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  local errors
  errors=$(echo "$out" | awk '/Socket errors|Non-2xx/ {print}' | tr '\n' ' ')
  printf '  %-34s %10s req/s   p50 %8s ms   p99 %8s ms  %s\n' "$label" "$RPS" "$P50" "$P99" "$errors"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

{
  echo "res proxy benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r)"
  echo "nginx workers $NGINX_WORKERS, wrk -t$THREADS -c$CONNS -d${DURATION}s, proxy threads $PROXY_THREADS"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo

  start_proxy TCP tcp
  start_proxy HTTP http

  if want ka; then
  echo "keep-alive throughput, 1 KiB"
  run_wrk direct-ka-1k "http://$DIRECT/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; D_KA=$RPS
  run_wrk tcp-ka-1k "http://$TCP_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; T_KA=$RPS
  run_wrk http-ka-1k "http://$HTTP_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; H_KA=$RPS
  echo "  → tcp $(ratio "$T_KA" "$D_KA") % of direct, http $(ratio "$H_KA" "$D_KA") % (goal ≥ 85 %)"
  echo
  fi

  if want haproxy; then
  HAPROXY=$(command -v haproxy || { [ -x /usr/sbin/haproxy ] && echo /usr/sbin/haproxy; } || true)
  if [ -n "$HAPROXY" ]; then
    HA_TCP=127.0.0.1:$((PORT + 1))
    HA_HTTP=127.0.0.1:$((PORT + 2))
    cat >"$tmp/haproxy.cfg" <<HAEOF
global
  nbthread $PROXY_THREADS
  maxconn 4096
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend ftcp
  mode tcp
  bind $HA_TCP
  default_backend btcp
backend btcp
  mode tcp
  server s1 $DIRECT
frontend fhttp
  mode http
  option http-keep-alive
  bind $HA_HTTP
  default_backend bhttp
backend bhttp
  mode http
  http-reuse always
  server s1 $DIRECT
HAEOF
    "$HAPROXY" -f "$tmp/haproxy.cfg" -D -p "$tmp/haproxy.pid"
    sleep 0.3
    echo "against HAProxy $("$HAPROXY" -v | head -1 | awk '{print $3}') ($PROXY_THREADS threads), keep-alive 1 KiB, ${HA_ROUNDS:-3} rounds alternated"
    for round in $(seq "${HA_ROUNDS:-3}"); do
      run_wrk "direct-$round" "http://$DIRECT/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; D=$RPS
      run_wrk "res-tcp-$round" "http://$TCP_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; RT=$RPS
      run_wrk "haproxy-tcp-$round" "http://$HA_TCP/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; HT=$RPS
      run_wrk "res-http-$round" "http://$HTTP_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; RH=$RPS
      run_wrk "haproxy-http-$round" "http://$HA_HTTP/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; HH=$RPS
      echo "  → round $round: tcp res $(ratio "$RT" "$D") % vs haproxy $(ratio "$HT" "$D") % of direct; http res $(ratio "$RH" "$D") % vs haproxy $(ratio "$HH" "$D") %"
    done
    kill "$(cat "$tmp/haproxy.pid")" 2>/dev/null || true
    rm -f "$tmp/haproxy.pid"
  else
    echo "against HAProxy: not installed (apt-get install haproxy), not measured"
  fi
  echo
  fi

  if want 1m; then
  echo "keep-alive throughput, 1 MiB"
  run_wrk direct-ka-1m "http://$DIRECT/1m" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; D_KM=$RPS
  run_wrk tcp-ka-1m "http://$TCP_ADDR/1m" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; T_KM=$RPS
  run_wrk http-ka-1m "http://$HTTP_ADDR/1m" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"; H_KM=$RPS
  echo "  → tcp $(ratio "$T_KM" "$D_KM") % of direct, http $(ratio "$H_KM" "$D_KM") %"
  echo
  fi

  if want close; then
  echo "new connection per request (Connection: close), 1 KiB"
  run_wrk direct-close "http://$DIRECT/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Connection: close"; D_NC=$RPS
  run_wrk tcp-close "http://$TCP_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Connection: close"; T_NC=$RPS
  run_wrk http-close "http://$HTTP_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Connection: close"; H_NC=$RPS
  echo "  → tcp $(ratio "$T_NC" "$D_NC") % of direct, http $(ratio "$H_NC" "$D_NC") % (goal ≥ 40 %)"
  echo
  fi

  if want c1; then
  echo "added latency, one connection, 1 KiB"
  run_wrk direct-c1 "http://$DIRECT/1k" -t1 -c1 -d5s; D50=$P50; D99=$P99
  run_wrk tcp-c1 "http://$TCP_ADDR/1k" -t1 -c1 -d5s; T50=$P50; T99=$P99
  run_wrk http-c1 "http://$HTTP_ADDR/1k" -t1 -c1 -d5s; H50=$P50; H99=$P99
  echo "  → added p50: tcp $(sub "$T50" "$D50") ms, http $(sub "$H50" "$D50") ms (goal ≤ 0.1 ms); p99 tcp $T99, http $H99 ms (no 40 ms tail)"
  echo
  fi

  echo "proxy memory after the runs above"
  printf '  tcp:  '; stop_proxy TCP
  printf '  http: '; stop_proxy HTTP
  echo

  if want fault; then
  echo "a 100 ms latency fault (4 connections)"
  start_proxy TCPL tcp --latency 100ms
  start_proxy HTTPL http --latency 100ms
  for f in 1k 1m; do
    run_wrk "direct-$f" "http://$DIRECT/$f" -t1 -c4 -d5s; B50=$P50
    run_wrk "tcp+100ms-$f" "http://$TCPL_ADDR/$f" -t1 -c4 -d5s
    echo "  → tcp $f: added p50 $(sub "$P50" "$B50") ms, p99 $P99 ms (goal 100 ± 2, ≤ 105)"
    run_wrk "http+100ms-$f" "http://$HTTPL_ADDR/$f" -t1 -c4 -d5s
    echo "  → http $f: added p50 $(sub "$P50" "$B50") ms, p99 $P99 ms (goal 100 ± 2, ≤ 105)"
  done
  stop_proxy TCPL >/dev/null
  stop_proxy HTTPL >/dev/null
  echo
  fi

  if want toggle; then
  echo "adding and removing a fault every 10 ms while traffic flows (keep-alive, 1 KiB)"
  for mode in tcp http; do
    start_proxy TOG "$mode" --toggle-ms 10
    run_wrk "$mode-toggling" "http://$TOG_ADDR/1k" -t"$THREADS" -c"$CONNS" -d"${DURATION}s"
    printf '  → %s: ' "$mode"; stop_proxy TOG
  done
  echo
  fi
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
