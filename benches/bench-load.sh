#!/usr/bin/env bash
# Benchmarks `res load` against wrk (and oha, when installed) on the same loopback target in
# one run, and checks that a frozen target shows up in the reported latency (coordinated
# omission). Not a test: the figures depend on the machine; record them in docs/benchmarks.md.
#
# The target is nginx with one worker serving a 2-byte body from its own config in a temp
# directory, so the figures compare with those in issue 3. Installs nginx and wrk with apt-get
# when they are missing (needs root). Environment: PORT (default 18080), SECS (default 10),
# PARTS (default "closed open co conns record": which measurements to run), PAIRS (default 3:
# how many runs with and without recording the `record` part alternates).
#
#   benches/bench-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18080}
SECS=${SECS:-10}
PARTS=${PARTS:-closed open co conns record}
want() { [[ " $PARTS " == *" $1 "* ]]; }
URL="http://127.0.0.1:${PORT}/"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
    echo "installing nginx and wrk with apt-get..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y nginx-light wrk >/dev/null 2>&1 || {
        apt-get update >/dev/null
        apt-get install -y nginx-light wrk >/dev/null
    }
fi
need python3 || { echo "python3 is needed to read the JSON results" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed: apt-get install time" >&2; exit 1; }

TMP=$(mktemp -d)
cleanup() {
    if [ -f "$TMP/nginx.pid" ]; then
        kill -CONT $(pgrep -P "$(cat "$TMP/nginx.pid")") 2>/dev/null || true
        kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

NGINX_USER=""
[ "$(id -u)" = 0 ] && NGINX_USER="user root;"
cat >"$TMP/nginx.conf" <<CONF
${NGINX_USER}
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path $TMP/body;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/fastcgi;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:${PORT} backlog=4096;
        location / { default_type text/plain; return 200 "ok"; }
    }
}
CONF
nginx -p "$TMP" -c "$TMP/nginx.conf"
for _ in $(seq 50); do [ -s "$TMP/nginx.pid" ] && break; sleep 0.1; done
curl -fsS "$URL" >/dev/null 2>&1 || python3 -c "import urllib.request; urllib.request.urlopen('$URL')"

echo "building res (release)..." >&2
cargo build --release --quiet --bin res
RES=target/release/res

# measure NAME CMD...: runs CMD under GNU time; stdout goes to $TMP/NAME.out.
measure() {
    local name=$1
    shift
    /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
}
cpu_s() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$TMP/$1.time"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$TMP/$1.time"; }
json() { python3 -c "import json,sys; r=json.load(open('$TMP/$1.out')); print($2)"; }

row() { # label measurement requests rps
    local label=$1 name=$2 reqs=$3 rps=$4 cpu rss per
    cpu=$(cpu_s "$name")
    rss=$(rss_mb "$name")
    per=$(python3 -c "print(round($reqs / max($cpu, 0.001)))")
    printf "%-26s %10s %11.0f %8s %12s %9s\n" "$label" "$reqs" "$rps" "$cpu" "$per" "$rss" >>"$TMP/table"
}

if want closed; then
echo "wrk -t2 -c50 -d${SECS}s..." >&2
measure wrk wrk -t2 -c50 -d"${SECS}s" "$URL"
row "wrk -c50" wrk "$(awk '/requests in/ { print $1 }' "$TMP/wrk.out")" "$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.out")"

echo "res load --connections 50..." >&2
measure res-closed "$RES" load "$URL" --connections 50 --duration "${SECS}s" --format json
row "res --connections 50" res-closed "$(json res-closed "r['requests']")" "$(json res-closed "r['achieved_rps']")"

if need oha; then
    echo "oha -c50 -z${SECS}s..." >&2
    measure oha oha -c 50 -z "${SECS}s" --no-tui --output-format json "$URL" ||
        measure oha oha -c 50 -z "${SECS}s" --no-tui -j "$URL"
    row "oha -c50" oha "$(json oha "r['summary'].get('successRate',1) and sum(r['statusCodeDistribution'].values())")" "$(json oha "r['summary']['requestsPerSec']")"
fi

fi

if want open; then
for pacing in precise batched; do
    echo "res load --rate 5000/s --pacing $pacing..." >&2
    measure "res-open-$pacing" "$RES" load "$URL" --rate 5000/s --pacing "$pacing" --duration "${SECS}s" --format json
    row "res --rate 5000/s $pacing" "res-open-$pacing" "$(json "res-open-$pacing" "r['requests']")" "$(json "res-open-$pacing" "r['achieved_rps']")"
done
fi

if want co; then
echo "coordinated omission: 2000/s with nginx stopped for 1 s..." >&2
WORKERS=$(pgrep -P "$(cat "$TMP/nginx.pid")" | tr '\n' ' ')
(
    sleep $((SECS / 2))
    kill -STOP $WORKERS
    sleep 1
    kill -CONT $WORKERS
) &
FREEZER=$!
measure res-co "$RES" load "$URL" --rate 2000/s --duration "${SECS}s" --format json
wait $FREEZER
fi

if want conns; then
    # 10,000 connections open at once: one closed-loop user each, and wrk the same way.
    [ "$(ulimit -n)" -ge 12000 ] || ulimit -n "$(ulimit -Hn)"
    echo "res load --connections 10000..." >&2
    measure res-conns "$RES" load "$URL" --connections 10000 --duration "${SECS}s" --format json
    row "res --connections 10000" res-conns "$(json res-conns "r['requests']")" "$(json res-conns "r['achieved_rps']")"
    echo "wrk -t2 -c10000..." >&2
    measure wrk-conns wrk -t2 -c10000 -d"${SECS}s" "$URL"
    row "wrk -c10000" wrk-conns "$(awk '/requests in/ { print $1 }' "$TMP/wrk-conns.out")" "$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk-conns.out")"
fi

if want record; then
    # The profile database's cost: the same `res run` closed loop with and without recording,
    # alternated so drift on the machine hits both sides alike.
    mkdir -p "$TMP/rec"
    cat >"$TMP/rec/rec.res" <<RES
system target {
  base "http://127.0.0.1:${PORT}"
  service root { route GET "/" }
}
traffic closed { users 50 }
scenario recording_cost {
  step go = load closed for ${SECS}s
}
RES
    for i in $(seq "${PAIRS:-3}"); do
        for mode in off on; do
            echo "res run, recording $mode ($i)..." >&2
            flag=--no-record
            [ "$mode" = on ] && flag=""
            "$RES" run "$TMP/rec/rec.res" -q --seed 1 $flag --profile-db "$TMP/rec/profile.redb" \
                --report "json=$TMP/rec/$mode-$i.json" >/dev/null 2>&1 || true
        done
    done
fi

# ----------------------------------------------------------------------------------------------
echo
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)   nproc: $(nproc)   cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "target: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker, 2-byte body, ${URL}; ${SECS}s per client"
echo
printf "%-26s %10s %11s %8s %12s %9s\n" "client" "requests" "req/s" "cpu s" "req/cpu-s" "rss MB"
cat "$TMP/table" 2>/dev/null || true
echo
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
import os
def load(n):
    return json.load(open(f"{tmp}/{n}.out"))
def have(n):
    return os.path.exists(f"{tmp}/{n}.out")
if have("res-closed"):
    closed = load("res-closed")
    wrk = float(open(tmp + '/wrk.out').read().split('Requests/sec:')[1].split()[0])
    print(f"closed loop: res/wrk throughput = {closed['achieved_rps'] / wrk:.2f}x")
for p in ("precise", "batched"):
    if not have(f"res-open-{p}"):
        continue
    o = load(f"res-open-{p}")
    err = 100 * (o["achieved_rps"] - 5000) / 5000
    lag = o["send_lag_ms"]
    print(f"open 5000/s {p:8}: achieved {o['achieved_rps']:.1f}/s ({err:+.3f} %), intended {o['intended']}, "
          f"unsent {o['unsent']}, send lag p50 {lag['p50_ms']:.3f} ms p99 {lag['p99_ms']:.3f} ms max {lag['max_ms']:.3f} ms")
if have("res-co"):
    co = load("res-co")
    l, s = co["total"]["latency_ms"], co["total"]["service_time_ms"]
    print(f"coordinated omission (2000/s, target stopped 1 s): p99 {l['p99']:.1f} ms, p99.9 {l['p999']:.1f} ms, "
          f"max {l['max']:.1f} ms from the intended time; service-time p99 {s['p99']:.1f} ms; "
          f"errors {co['errors']}, unsent {co['unsent']}")
import glob
pairs = sorted(glob.glob(f"{tmp}/rec/off-*.json"))
if pairs:
    def reqs(path):
        return json.load(open(path))["services"]["target.root"]["requests"]
    ratios = []
    for off in pairs:
        on = off.replace("/off-", "/on-")
        a, b = reqs(off), reqs(on)
        ratios.append(b / a)
        print(f"recording cost: without {a} requests, with {b} ({b / a:.3f})")
    print(f"recording cost: mean ratio {sum(ratios) / len(ratios):.3f} (goal >= 0.98)")
if have("res-conns"):
    c = load("res-conns")
    print(f"10,000 connections: {c['requests']} requests, errors {c['errors']}")
PY
