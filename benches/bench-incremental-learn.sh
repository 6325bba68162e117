#!/usr/bin/env bash
# The orchestrator's incremental learning (issue 16): the time to absorb 1,000 lines appended
# to a 1,000,000-line access log, against learning that log whole. Runs `res orchestrate` on
# virtual time (one iteration every 2 s of wall time): version 1 learns the log whole, then
# 1,000 later lines are appended and version 2 learns only them. Each figure is from the
# iteration's start (`decided_at` in the audit log) to its `learn` decision being logged, so
# both include the forecast that follows the learn. Wants a quiet machine for reference
# figures; the ratio is the point.
#
#   benches/bench-incremental-learn.sh [path/to/res]   (default: target/release/res)
set -euo pipefail
RES=${1:-target/release/res}
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=
python3 benches/gen-access-log.py 1001000 28 > "$dir/full.log"
head -n 1000000 "$dir/full.log" > "$dir/access.log"
tail -n 1000 "$dir/full.log" > "$dir/more.log"
cat > "$dir/incr.res" <<'RES'
system shop { builtin demo_shop  service catalog { route GET "/items/1" } }
traffic real { learn from "access.log" format combined  forecast peak over 7d }
scenario s { step main = load real for 1m }
RES
"$RES" orchestrate "$dir/incr.res" --clock 2025-12-15T00:00Z..2025-12-16T00:00Z --interval 1m \
  --speed 30 --no-predict --log-format json --profile-db "$dir/p.redb" > "$dir/out" &
pid=$!
wait_for() { until grep -q "model version $1:" "$dir/out"; do sleep 0.2; done; }
wait_for 1
cat "$dir/more.log" >> "$dir/access.log"
wait_for 2
kill -TERM "$pid"; wait "$pid" || true; pid=
"$RES" orchestrate status --json --profile-db "$dir/p.redb" > "$dir/decisions.json"
python3 - "$dir/out" "$dir/decisions.json" <<'PY'
import json, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
logged = {}
for line in open(sys.argv[1]):
    v = json.loads(line)
    if v.get("action") == "learn":
        logged[v["id"]] = t(v["timestamp"])
for d in json.load(open(sys.argv[2])):
    if d["action"] == "learn":
        e = json.loads(d["evidence"])
        print(f'version {e["version"]} ({e["how"]}, {e["lines_added"]:,} lines): '
              f'{logged[d["id"]] - t(d["decided_at"]):.3f} s (reading + model {e["learn_ms"]/1000:.3f} s)')
PY
