#!/usr/bin/env bash
# Benchmarks `res load` against wrk (and oha, when installed) on the same loopback target in
# one run, and checks that a frozen target shows up in the reported latency (coordinated
# omission). Not a test: the figures depend on the machine; record them in docs/benchmarks.md.
#
# The target is nginx with one worker serving a 2-byte body from its own config in a temp
# directory, so the figures compare with those in issues 3 and 20. Requests are counted by the
# server (nginx `stub_status`), so every client is measured the same way; CPU-seconds and peak
# RSS of each client come from GNU time. Installs nginx and wrk with apt-get when they are
# missing (needs root; by hand: `apt-get update && apt-get install -y nginx-light wrk time`);
# oha is used when installed. Only 127.0.0.1 is targeted. Environment: PORT (default 18080),
# SECS (default 10), PARTS (default "closed pipeline open co conns record": which to run),
# ROUNDS (default 3: closed-loop rounds of wrk, res and res on hyper's client, alternated),
# PAIRS (default 3: how many runs with and without recording the `record` part alternates),
# OPEN_ROUNDS (default 1: rounds of the open model's pacings, alternated), OPEN_PACINGS
# (default "lanes thread unbatched batched": which of them; also lanes10, lanes1), OPEN_HYPER (default 1: also the
# open model on hyper's client). `PARTS=open` runs the open model alone.
# `RES_LOAD_CLIENT=hyper` makes `res load` use hyper's HTTP/1.1 client instead of its own.
# Needs a quiet machine for figures worth recording.
#
#   benches/bench-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18080}
SECS=${SECS:-10}
PARTS=${PARTS:-closed pipeline open co conns record}
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

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
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
        location = /nginx_status { stub_status; }
    }
}
CONF
nginx -p "$TMP" -c "$TMP/nginx.conf"
for _ in $(seq 50); do [ -s "$TMP/nginx.pid" ] && break; sleep 0.1; done
curl -fsS "$URL" >/dev/null 2>&1 || python3 -c "import urllib.request; urllib.request.urlopen('$URL')"

echo "building res (release)..." >&2
cargo build --release --quiet --bin res
RES=target/release/res

# served: the requests nginx has handled so far (each read of the counter is one more).
served() { python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:${PORT}/nginx_status').read().split()[9].decode())"; }
# measure NAME CMD...: runs CMD under GNU time; stdout goes to $TMP/NAME.out, the requests
# the server counted meanwhile to $TMP/NAME.served.
measure() {
    local name=$1 before after
    shift
    before=$(served)
    /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || true
    after=$(served)
    echo $((after - before - 1)) >"$TMP/$name.served"
}
cpu_s() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$TMP/$1.time"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$TMP/$1.time"; }
json() { python3 -c "import json,sys; r=json.load(open('$TMP/$1.out')); print($2)"; }

row() { # label measurement: server-counted requests and rate, CPU, CPU per request, RSS
    local label=$1 name=$2 reqs cpu rss
    reqs=$(cat "$TMP/$name.served")
    cpu=$(cpu_s "$name")
    rss=$(rss_mb "$name")
    printf "%s\t%s\t%s\t%s\t%s\n" "$label" "$name" "$reqs" "$cpu" "$rss" >>"$TMP/rows.tsv"
    python3 -c "r=$reqs; c=max($cpu, 0.001); print(f'%-30s %10d %11.0f %8.2f %10.2f %10.0f %8s' % ('$label', r, r / $SECS, c, 1e6 * c / max(r, 1), r / c, '$rss'))" >>"$TMP/table"
}

if want closed; then
for round in $(seq "${ROUNDS:-3}"); do
    echo "round $round: wrk -t2 -c50 -d${SECS}s..." >&2
    measure "wrk-$round" wrk -t2 -c50 -d"${SECS}s" "$URL"
    row "wrk -c50 ($round)" "wrk-$round"

    echo "round $round: res load --connections 50..." >&2
    measure "res-closed-$round" "$RES" load "$URL" --connections 50 --duration "${SECS}s" --format json
    row "res --connections 50 ($round)" "res-closed-$round"

    echo "round $round: res load --connections 50 on hyper's client..." >&2
    measure "res-hyper-$round" env RES_LOAD_CLIENT=hyper "$RES" load "$URL" --connections 50 --duration "${SECS}s" --format json
    row "res (hyper) -c50 ($round)" "res-hyper-$round"

    if need oha; then
        echo "round $round: oha -c50 -z${SECS}s..." >&2
        measure "oha-$round" oha -c 50 -z "${SECS}s" --no-tui "$URL"
        row "oha -c50 ($round)" "oha-$round"
    fi
done
fi

if want pipeline; then
    # Pipelining, 16 deep on 50 connections: wrk through a Lua script that sends 16 requests
    # per write, res with --pipeline 16.
    cat >"$TMP/pipeline.lua" <<'LUA'
init = function(args)
    local batch = {}
    for i = 1, 16 do batch[i] = wrk.format(nil, "/") end
    pipelined = table.concat(batch)
end
request = function() return pipelined end
LUA
    echo "wrk -t2 -c50 pipelined 16 deep..." >&2
    measure wrk-pipeline wrk -t2 -c50 -d"${SECS}s" -s "$TMP/pipeline.lua" "$URL"
    row "wrk -c50 pipeline 16" wrk-pipeline
    echo "res load --connections 50 --pipeline 16..." >&2
    measure res-pipeline "$RES" load "$URL" --connections 50 --pipeline 16 --duration "${SECS}s" --format json
    row "res -c50 --pipeline 16" res-pipeline
fi

if want open; then
# lanes: precise pacing in the load threads' own event loops, each releasing its share of the
# tickets at their times on a timerfd (RES_PACER=lanes; lanes10 hands them 5-10 ms ahead
# instead of 1-2, lanes1 on one thread); thread: precise pacing's default, the pacer thread
# releasing them, its wake-ups batched within 0.5 ms; unbatched: the same with a wake-up per
# request (RES_PACER_BATCH_US=0); batched: tokio's timer.
# OPEN_ROUNDS (default 1) alternates them so drift on the machine hits each alike.
for round in $(seq "${OPEN_ROUNDS:-1}"); do
for pacing in ${OPEN_PACINGS:-lanes thread unbatched batched}; do
    echo "res load --rate 5000/s, $pacing pacing ($round)..." >&2
    case "$pacing" in
        lanes) how=(env RES_PACER=lanes "$RES" load "$URL" --pacing precise) ;;
        lanes10) how=(env RES_PACER=lanes RES_PACER_LEAD_US=10000 "$RES" load "$URL" --pacing precise) ;;
        lanes1) how=(env RES_PACER=lanes "$RES" load "$URL" --pacing precise --threads 1) ;;
        thread) how=(env RES_PACER=thread "$RES" load "$URL" --pacing precise) ;;
        unbatched) how=(env RES_PACER=thread RES_PACER_BATCH_US=0 "$RES" load "$URL" --pacing precise) ;;
        *) how=("$RES" load "$URL" --pacing "$pacing") ;;
    esac
    measure "res-open-$pacing-$round" "${how[@]}" --rate 5000/s --duration "${SECS}s" --format json
    row "res --rate 5000/s $pacing ($round)" "res-open-$pacing-$round"
done
done
if [ "${OPEN_HYPER:-1}" = 1 ]; then
    echo "res load --rate 5000/s --pacing precise on hyper's client..." >&2
    measure res-open-hyper env RES_LOAD_CLIENT=hyper "$RES" load "$URL" --rate 5000/s --pacing precise --duration "${SECS}s" --format json
    row "res (hyper) 5000/s precise" res-open-hyper
fi
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
    row "res --connections 10000" res-conns
    echo "wrk -t2 -c10000..." >&2
    measure wrk-conns wrk -t2 -c10000 -d"${SECS}s" "$URL"
    row "wrk -c10000" wrk-conns
    echo "res load --connections 10000 on hyper's client..." >&2
    measure res-hyper-conns env RES_LOAD_CLIENT=hyper "$RES" load "$URL" --connections 10000 --duration "${SECS}s" --format json
    row "res (hyper) -c10000" res-hyper-conns
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
echo "load average (1, 5, 15 min): at the start $LOAD_AT_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "target: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker, 2-byte body, ${URL}; ${SECS}s per client"
echo
printf "%-30s %10s %11s %8s %10s %10s %8s\n" "client" "served" "served/s" "cpu s" "cpu us/req" "req/cpu-s" "rss MB"
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
rows = {}
if os.path.exists(f"{tmp}/rows.tsv"):
    for line in open(f"{tmp}/rows.tsv"):
        label, name, reqs, cpu, rss = line.rstrip("\n").split("\t")
        rows[name] = (int(reqs), float(cpu), rss)
def ratio(a, b):
    # Per round: served ratio and requests-per-CPU-second ratio of `a` against `b`.
    out = []
    for n in range(1, 100):
        if f"{a}-{n}" not in rows or f"{b}-{n}" not in rows:
            continue
        (ra, ca, _), (rb, cb, _) = rows[f"{a}-{n}"], rows[f"{b}-{n}"]
        out.append((ra / max(rb, 1), (ra / max(ca, 0.001)) / max(rb / max(cb, 0.001), 1)))
    return out
for a, b in (("res-closed", "wrk"), ("res-hyper", "wrk"), ("res-closed", "res-hyper"), ("oha", "wrk")):
    r = ratio(a, b)
    if r:
        each = ", ".join(f"{t:.2f}x/{e:.2f}x" for t, e in r)
        mt = sum(t for t, _ in r) / len(r)
        me = sum(e for _, e in r) / len(r)
        print(f"closed loop {a} / {b}: throughput {mt:.2f}x, requests per CPU-second {me:.2f}x (per round: {each})")
for n in range(1, 100):
    for p in ("lanes", "lanes10", "lanes1", "thread", "unbatched", "batched"):
        if not have(f"res-open-{p}-{n}"):
            continue
        o = load(f"res-open-{p}-{n}")
        err = 100 * (o["achieved_rps"] - 5000) / 5000
        lag = o["send_lag_ms"]
        print(f"open 5000/s {p:9} ({n}): achieved {o['achieved_rps']:.1f}/s ({err:+.3f} %), intended {o['intended']}, "
              f"unsent {o['unsent']}, send lag p50 {lag['p50_ms']:.3f} ms p99 {lag['p99_ms']:.3f} ms max {lag['max_ms']:.3f} ms")
for a, b in (("res-open-lanes", "res-open-unbatched"), ("res-open-lanes", "res-open-thread"),
             ("res-open-lanes10", "res-open-unbatched"), ("res-open-lanes10", "res-open-thread"),
             ("res-open-lanes1", "res-open-unbatched"), ("res-open-lanes1", "res-open-thread"),
             ("res-open-thread", "res-open-unbatched"), ("res-open-batched", "res-open-unbatched")):
    r = ratio(a, b)
    if r:
        each = ", ".join(f"{e:.2f}x" for _, e in r)
        print(f"open model {a} / {b}: requests per CPU-second {sum(e for _, e in r) / len(r):.2f}x (per round: {each})")
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
