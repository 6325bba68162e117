#!/usr/bin/env bash
# The SIGKILL matrix (issue 13): `res run` killed with SIGKILL at every moment of a run,
# under every fault kind, then checked for what it left behind and what it kept.
#
# Each cell runs a scenario against the embedded demo shop (load 8 s; the fault injected at
# 2 s and reverted at 5 s; a `sleep` process as the target of process and resource faults)
# in a folder of its own, kills `res` at the moment, and then checks:
#   recorded  the killed run's outcome in the profile database and the fault actions it kept
#   left      what the kill left in force: a stopped process, a fill file (before recovery)
#   recover   `res recover` on the folder's journal: exit code, and whether anything is left
#   next      a following `res run` on the same database: exit code (0: recorded and passed)
# Moments: before (1.0 s), during (3.5 s), after the revert (6.5 s), and the final commit
# (killed as the run ends: 8.15 s, when a whole run takes about 8.2 s here). Creation is
# kind-independent (the database is created before any fault): it is its own table, a kill
# 1–40 ms after the start, on a new database.
#
# usage: benches/kill-matrix.sh            (RES=path/to/res to use another build)
# Needs: bash, coreutils, a built res (cargo build). Takes about six minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
res=${RES:-$PWD/target/debug/res}
[ -x "$res" ] || cargo build --quiet
work=${KM_DIR:-/tmp/res-kill-matrix}
rm -rf "$work"
mkdir -p "$work"

kinds=(
  "latency|catalog|latency 150ms"
  "errors|catalog|errors 503 at 50%"
  "reset|catalog|reset at 20%"
  "blackhole|catalog|blackhole at 20%"
  "timeout|catalog|timeout 1s"
  "bandwidth|catalog|bandwidth 64KiB/s"
  "slow_close|catalog|slow_close 1s"
  "slice|catalog|slice 64B delay 1ms"
  "kill|worker|kill"
  "pause|worker|pause"
  "restart|worker|restart with \"true\""
  "cpu|worker|cpu 1 cores at 50%"
  "memory|worker|memory 64MiB"
  "disk|worker|disk 16MiB at \"FILLDIR\""
  "fds|worker|fds 100"
  "loss|catalog|loss 5%"
)
moments=("before|1.0" "during|3.5" "after|6.5" "final|8.15")

scenario() { # DIR EFFECT TARGET
  cat > "$1/x.res" <<EOF
system shop {
  builtin demo_shop
  service catalog { route GET "/items/{random.1000}" }
  service worker { process pidfile "$1/worker.pid" }
}
traffic t { rate 20/s  hold 8s }
fault f { on shop.$3  $2 }
scenario s {
  step main = load t
  step chaos = inject f with main + 2s for 3s
}
EOF
  cat > "$1/next.res" <<EOF
system shop {
  builtin demo_shop
  service catalog { route GET "/items/{random.1000}" }
}
traffic t { rate 10/s  hold 1s }
scenario s { step main = load t }
EOF
}

state() { # PID → process state letter, or "-" when gone
  awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo -
}

leftovers() { # DIR WORKER_PID → what is in force
  local out=() fills
  [ "$(state "$2")" = T ] && out+=(stopped)
  fills=$(find "$1" -name '.res-fill-*' 2>/dev/null | wc -l)
  [ "$fills" -gt 0 ] && out+=("fill×$fills")
  [ ${#out[@]} -eq 0 ] && echo none || echo "${out[*]}"
}

printf '%-10s %-7s %-6s %-26s %-14s %-14s %-5s\n' kind moment exit recorded left recover next
for k in "${kinds[@]}"; do
  IFS='|' read -r kind target effect <<<"$k"
  for m in "${moments[@]}"; do
    IFS='|' read -r moment at <<<"$m"
    dir="$work/$kind-$moment"
    mkdir -p "$dir/fill"
    scenario "$dir" "${effect//FILLDIR/$dir/fill}" "$target"
    sleep 600 &
    worker=$!
    disown "$worker" # no job notice when a kill fault ends it
    echo "$worker" > "$dir/worker.pid"
    (cd "$dir" && RES_STATE_DIR="$dir/.res" exec "$res" run --seed 1 --quiet --profile-db .res/profile.redb x.res >run.out 2>run.err) &
    pid=$!
    sleep "$at"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    code=$?
    [ "$code" = 137 ] && code=killed
    db="$dir/.res/profile.redb"
    recorded=$("$res" profile show 1 --format json --profile-db "$db" 2>/dev/null |
      python3 -c 'import json,sys
try:
    v = json.load(sys.stdin)
    print(v["outcome"][:6] + ":" + (",".join(f["action"] for f in v["faults"]) or "none"))
except Exception: print("no run")')
    left=$(leftovers "$dir" "$worker")
    "$res" recover --journal "$dir/.res/faults.journal" >"$dir/recover.out" 2>&1
    rc=$?
    recover="$rc:$(leftovers "$dir" "$worker")"
    (cd "$dir" && RES_STATE_DIR="$dir/.res" "$res" run --seed 1 --quiet --profile-db .res/profile.redb next.res >next.out 2>&1)
    next=$?
    kill -KILL "$worker" 2>/dev/null
    printf '%-10s %-7s %-6s %-26s %-14s %-14s %-5s\n' "$kind" "$moment" "$code" "$recorded" "$left" "$recover" "$next"
  done
done

echo
printf '%-9s %-7s %-28s %-8s %-5s %-12s\n' creation exit "left at the path" list next "temp after"
for ms in 1 2 3 5 8 12 20 40; do
  dir="$work/create-$ms"
  mkdir -p "$dir"
  scenario "$dir" "latency 1ms" catalog
  (cd "$dir" && RES_STATE_DIR="$dir/.res" exec "$res" run --seed 1 --quiet --profile-db .res/profile.redb next.res >run.out 2>run.err) &
  pid=$!
  sleep "0.$(printf '%03d' "$ms")"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  code=$?
  [ "$code" = 137 ] && code=killed
  db="$dir/.res/profile.redb"
  if [ -e "$db" ]; then
    what="db $(stat -c %s "$db") B"
  else
    what="no db"
  fi
  temps=$(find "$dir/.res" -name 'profile.redb.*' 2>/dev/null | wc -l)
  [ "$temps" -gt 0 ] && what="$what, $temps temp"
  "$res" profile list --profile-db "$db" >/dev/null 2>&1
  list=$?
  (cd "$dir" && RES_STATE_DIR="$dir/.res" "$res" run --seed 1 --quiet --profile-db .res/profile.redb next.res >next.out 2>&1)
  next=$?
  after=$(find "$dir/.res" -name 'profile.redb.*' 2>/dev/null | wc -l)
  printf '%-9s %-7s %-28s %-8s %-5s %-12s\n' "${ms}ms" "$code" "$what" "$list" "$next" "$after"
done
